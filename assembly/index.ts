// The exported ABI: every kernel entry point, in one place.
// Kernels are pure functions over byte offsets into the host-owned memory; none allocates.
export function abiVersion(): i32 { return 1; }
