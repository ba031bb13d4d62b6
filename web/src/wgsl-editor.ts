/**
 * The playground's WGSL editor: CodeMirror 6 with WGSL highlighting, line numbers, Tab to indent,
 * Mod-Enter to run, and the compiler's messages as lint markers at their line:column.
 */
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { setDiagnostics, forEachDiagnostic, lintGutter, type Diagnostic } from '@codemirror/lint';
import { wgsl } from '@iizukak/codemirror-lang-wgsl';
import type { CompilerMessage } from './compiler-messages.ts';

export interface WgslEditor {
  readonly view: EditorView;
  getText(): string;
  setText(text: string): void;
  /** Marks the compiler's messages in the text (an empty list clears them). */
  showMessages(messages: CompilerMessage[]): void;
  /** The marks shown now, as 1-based line:column (for the page's tests). */
  marks(): { line: number; column: number; severity: string; message: string }[];
}

export function createWgslEditor(parent: HTMLElement, opts: { onChange: () => void; onRun: () => void }): WgslEditor {
  const view = new EditorView({
    parent,
    extensions: [
      basicSetup,
      // Tab indents (two spaces, as the built-in kernels do); Mod-Enter runs
      keymap.of([
        {
          key: 'Tab',
          run: (v) => {
            v.dispatch(v.state.replaceSelection('  '));
            return true;
          },
        },
        {
          key: 'Mod-Enter',
          run: () => {
            opts.onRun();
            return true;
          },
        },
      ]),
      wgsl(),
      lintGutter(),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) opts.onChange();
      }),
      EditorView.contentAttributes.of({ 'aria-label': 'WGSL kernel', spellcheck: 'false' }),
    ],
  });
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      this.showMessages([]);
    },
    showMessages(messages) {
      const doc = view.state.doc;
      const diagnostics: Diagnostic[] = messages.map((m) => {
        // a line past the end (the compiler counts the text it was given, which this is) lands on the last one
        const line = doc.line(Math.min(Math.max(1, m.line), doc.lines));
        const from = Math.min(line.from + Math.max(0, m.column - 1), line.to);
        const word = /^\w+/.exec(doc.sliceString(from, line.to))?.[0].length ?? 0;
        return { from, to: Math.min(line.to, from + Math.max(word, 1)), severity: m.severity, message: m.message, source: 'WGSL compiler' };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    marks() {
      const out: ReturnType<WgslEditor['marks']> = [];
      forEachDiagnostic(view.state, (d, from) => {
        const line = view.state.doc.lineAt(from);
        out.push({ line: line.number, column: from - line.from + 1, severity: d.severity, message: d.message });
      });
      return out;
    },
  };
}
