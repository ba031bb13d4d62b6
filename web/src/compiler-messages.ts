/**
 * The WGSL compiler's messages (GPUCompilationInfo) out of a KernelError's text, where
 * engine/runtime.ts writes each as `<type> at line <line>:<column>: <message>` (pure: the
 * playground's editor and its unit test share it).
 */
export interface CompilerMessage {
  severity: 'error' | 'warning' | 'info';
  line: number;
  column: number;
  message: string;
}

export function compilerMessages(text: string): CompilerMessage[] {
  const out: CompilerMessage[] = [];
  for (const m of text.matchAll(/^\s*(error|warning|info) at line (\d+):(\d+): (.*)$/gm)) {
    out.push({ severity: m[1] as CompilerMessage['severity'], line: Number(m[2]), column: Number(m[3]), message: m[4] });
  }
  return out;
}
