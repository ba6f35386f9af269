"""Wire formats: protocol v1 (binary), plain text lines, and format detection. Pure, no I/O."""
