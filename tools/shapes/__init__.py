"""Synthetic coloured-shape scenes for the trained tiny Emu (issue 12): renderer, captions, QA."""
