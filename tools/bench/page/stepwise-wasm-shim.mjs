// web/stepwise.js imports '#stepwise-wasm' (package.json "imports" under Node). In the harness pages an
// import map points that name here; the Emscripten module, a classic script, has defined the global.
export default globalThis.createStepwiseModule;
