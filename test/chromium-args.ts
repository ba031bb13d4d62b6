/** Chromium flags that give WebGPU on SwiftShader, headless, on a machine without a GPU (SETUP.md). */
export const CHROMIUM_WEBGPU_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
