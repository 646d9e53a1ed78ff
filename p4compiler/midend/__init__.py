"""Mid end: lowering of P4_16 (inlining, copy-in/out, flattening) to BMv2 primitives."""
