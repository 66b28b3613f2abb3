"""PyTorch reference implementation of Emu1, used for export and golden fixtures."""
