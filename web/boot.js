// Runs first, while the rest of the page is still downloading, and starts the two slow things at once so
// that they overlap the page's own download and start-up: compiling the engine (stepwise.wasm) and getting
// the built-in model named in index.html. A classic script, copied as is by build_site.mjs; web/assets.js
// picks up what it started (globalThis.stepwiseBoot).
//
// Over http the engine is compiled while it downloads (WebAssembly.compileStreaming; the host must send
// .wasm as application/wasm, as GitHub Pages and tools/serve.mjs do), else from its bytes once they are
// in; the model file is fetched as it is. From file:// (no fetch there) the same bytes come as classic
// scripts (engine.js, model.js, base64), injected here rather than after app.js has run; the engine is
// compiled as soon as its script is in.
(() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;
  const wasmName = meta('stepwise-wasm');
  const modelName = meta('stepwise-model');
  const boot = (globalThis.stepwiseBoot = { wasm: null, model: null });

  // (a script's base64 to bytes: the built-in decoder where the browser has one, it is much faster)
  const fromBase64 = (text) => {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  };
  const script = (src) => new Promise((resolve, reject) => {
    const element = document.createElement('script');
    element.src = src;
    element.onload = resolve;
    element.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(element);
  });

  if (location.protocol === 'file:') {
    // (a failure is left to web/assets.js, which says what is missing)
    if (wasmName) {
      boot.wasm = script('engine.js').then(() => WebAssembly.compile(fromBase64(globalThis.stepwiseEngineWasm))).catch(() => null);
    }
    if (modelName) {
      boot.model = script('model.js').then(() => {
        const embedded = globalThis.stepwiseBuiltinModel;
        delete globalThis.stepwiseBuiltinModel;  // the page keeps the model, not a second copy of its text
        return { name: embedded.file, bytes: fromBase64(embedded.base64) };
      }).catch(() => null);
    }
    return;
  }

  if (wasmName) {
    boot.wasm = fetch(wasmName).then(async (response) => {
      if (!response.ok) return null;
      if (WebAssembly.compileStreaming) {
        try {
          return await WebAssembly.compileStreaming(response.clone());
        } catch {
          // (another type than application/wasm, say: compiled from the bytes below)
        }
      }
      return WebAssembly.compile(await response.arrayBuffer());
    }).catch(() => null);
  }
  // The model: its gzip twin (MODEL.gz, written by build_site.mjs) where the browser can inflate it, else
  // the file itself. Static hosts compress text, not binary files (GitHub Pages sends .safetensors as it
  // is), and the int8 weights shrink by 7 % only, but that is 100 kB of a first visit's 1.6 MB. The twin
  // is inflated as it arrives, so that inflating (~20 ms) overlaps the download.
  const download = (name) => fetch(name).then((response) => (response.ok ? response.arrayBuffer() : null));
  // (gzip's magic and method; a safetensors file has '{' where gzip has its flags)
  const gzipped = (b) => b.length >= 10 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8 && b[8] !== 0x7b;
  const inflate = (stream) => new Response(stream.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  // The twin's bytes as the model file: inflated when they are gzip; as they are when the host sent the
  // .gz with Content-Encoding: gzip (the browser inflated it: a safetensors file); null for anything else
  // (a host's page for a missing file, sent as 200).
  const twinBytes = async (response) => {
    const reader = response.body.getReader();
    const first = await reader.read();
    const head = first.value ?? new Uint8Array(0);
    const body = new ReadableStream({
      start(controller) {
        if (head.length) controller.enqueue(head);
        if (first.done) controller.close();
      },
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    if (gzipped(head)) return inflate(body);
    const bytes = new Uint8Array(await new Response(body).arrayBuffer());
    if (gzipped(bytes)) return inflate(new Blob([bytes]).stream());  // (a first chunk too short to tell)
    return bytes[8] === 0x7b ? bytes.buffer : null;
  };
  if (modelName) {
    const twin = globalThis.DecompressionStream && meta('stepwise-model-gzip');
    boot.model = (twin ? fetch(twin).then((response) => (response.ok ? twinBytes(response) : null)).catch(() => null) : Promise.resolve(null))
      .then((buffer) => buffer ?? download(modelName))
      .then((buffer) => buffer && { name: modelName, bytes: new Uint8Array(buffer) })
      .catch(() => null);
  }
})();
