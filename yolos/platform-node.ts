/**
 * Registers Node's platform pieces with the browser-safe modules: Dawn as the engine's adapter, the folder
 * cache and the Hugging Face cache for `fromPretrained`, sharp as the image decoder, and file paths as
 * detector inputs. Imported (for its effect) by the Node entry and the CLI.
 */
import '../engine/node.ts';
import './hub-node.ts';
import './image-input-node.ts';
