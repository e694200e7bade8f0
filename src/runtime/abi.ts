/**
 * The kernels' exported ABI as the host sees it (mirrors assembly/index.ts).
 * Pointers are byte offsets into the host-owned memory; counts are elements.
 */
export interface KernelExports {
  abiVersion(): number;
}
