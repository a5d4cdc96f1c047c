// Timing for the JavaScript-side benchmarks (ONNX Runtime Web, the Stepwise JS API), the same scheme as
// timing.h: warm-up calls for `warmupSeconds` (WebAssembly engines optimize hot code after a while), a
// calibration of how many calls fill `minSeconds`, then `samples` batches of that many calls; per-call
// seconds, median with min and max. Works in Node and browsers.

export async function timeCalls(call, { samples = 5, minSeconds = 0.02, warmupSeconds = 0.2 } = {}) {
  const warmEnd = performance.now() + warmupSeconds * 1000;
  do await call();
  while (performance.now() < warmEnd);
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await call();
    const t = (performance.now() - t0) / 1000;
    if (t >= minSeconds || n >= 1 << 30) break;
    n = t <= 0 ? n * 16 : Math.max(n * 2, Math.floor((n * minSeconds * 1.2) / t) + 1);
  }
  const perCall = [];
  for (let s = 0; s < Math.max(1, samples); s++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await call();
    perCall.push((performance.now() - t0) / 1000 / n);
  }
  perCall.sort((a, b) => a - b);
  const k = perCall.length;
  const median = k % 2 ? perCall[(k - 1) / 2] : (perCall[k / 2 - 1] + perCall[k / 2]) / 2;
  return { median, min: perCall[0], max: perCall[k - 1], samples: k, calls_per_sample: n };
}

/** Per-call seconds scaled by `factor` (1e6: microseconds). */
export function scaled(stats, factor) {
  return { ...stats, median: stats.median * factor, min: stats.min * factor, max: stats.max * factor };
}

/** `work / seconds`: a rate (its min comes from the slowest sample). */
export function rate(stats, work) {
  return { ...stats, median: work / stats.median, min: work / stats.max, max: work / stats.min };
}
