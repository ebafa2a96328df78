"""Record batches (message format v2) handled at the batch level: headers, checks, stamping."""
