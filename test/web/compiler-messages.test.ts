import { describe, it, expect } from 'vitest';
import { compilerMessages } from '../../web/src/compiler-messages.ts';

describe("compilerMessages (the playground editor's markers)", () => {
  it('reads each message of a KernelError with its line:column', () => {
    const text =
      "kernel 'user:gelu' failed to compile: Invalid ShaderModule\n" +
      "  error at line 12:26: unresolved value 'undefined_name'\n    ys[i] = f(xs[i]) + undefined_name;\n" +
      '  warning at line 3:1: unused variable\n    let t = 1;';
    expect(compilerMessages(text)).toEqual([
      { severity: 'error', line: 12, column: 26, message: "unresolved value 'undefined_name'" },
      { severity: 'warning', line: 3, column: 1, message: 'unused variable' },
    ]);
  });

  it('an error without compiler messages (a binding that does not fit) gives none', () => {
    expect(compilerMessages('kernel user:matmul declares 2 bindings, the op has 3')).toEqual([]);
  });
});
