"""The exporter behind tools/export.py: graphs (`graphs`), weights and external data (`weights`),
float16 conversion (`fp16`), the self-check (`selfcheck`), the manifest (`manifest`) and the
bundle directory (`bundle`). The contract it writes is docs/bundle-format.md."""
