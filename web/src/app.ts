/**
 * index.html: the Train and Detect tabs (one page, so Detect can use the model being trained). The
 * training runs in a Web Worker with its own engine; Detect runs here on the page's engine, and takes
 * the trained model as the weight bytes the worker sends — the same path as a downloaded file, so the
 * two detect alike, and detecting never waits for a training step.
 */
import { startEngine, byId } from './common.ts';
import { TrainPanel } from './train.ts';
import { DetectPanel } from './detect.ts';

function showTab(): void {
  const tab = location.hash === '#detect' ? 'detect' : 'train';
  for (const t of ['train', 'detect']) {
    byId(`tab-${t}`).hidden = t !== tab;
    document.querySelector(`nav a[data-tab="${t}"]`)?.classList.toggle('active', t === tab);
  }
}

const engine = await startEngine();
showTab();
window.addEventListener('hashchange', showTab);
if (engine) {
  const train = new TrainPanel(engine.adapter.isSoftware);
  const detect = new DetectPanel(() => train.snapshot());
  train.onModelChange = () => detect.setTrainedAvailable(train.hasModel);
  // for the browser console (and the end-to-end tests): yolos.train.history, yolos.detect.shown …
  Object.assign(window, { yolos: { engine, train, detect } });
  document.body.dataset.ready = 'true';
}
