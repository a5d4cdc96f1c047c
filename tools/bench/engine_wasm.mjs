// Runs the engine benchmark module (build-wasm/stepwise-bench.js or stepwise-bench-eigen.js, built from
// tools/bench/engine_bench.cpp) on a model's bytes. Shared by Node (node_runner.mjs) and the Chromium
// harness page (page/bench.html): no Node or browser APIs here.

/** `createModule`: the module factory; `bytes`: the model file; `options`: see engine_bench.h. */
export async function runEngineBenchmark(createModule, bytes, options) {
  const M = await createModule();
  const text = JSON.stringify(options);
  const size = M.lengthBytesUTF8(text) + 1;
  const optionsPointer = M._malloc(size);
  M.stringToUTF8(text, optionsPointer, size);
  const pointer = M._malloc(bytes.length);
  M.HEAPU8.set(bytes, pointer);
  const error = M.UTF8ToString(M._bench_load(pointer, bytes.length, optionsPointer));
  M._free(pointer);
  if (error) {
    M._free(optionsPointer);
    throw new Error(`bench_load: ${error}`);
  }
  const result = JSON.parse(M.UTF8ToString(M._bench_run(optionsPointer)));
  M._free(optionsPointer);
  if (result.error) throw new Error(`bench_run: ${result.error}`);
  return result;
}
