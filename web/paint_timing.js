// How long a step takes to reach the screen, measured in the page: from the input that asked for it (the
// click's or key press's event.timeStamp, when the browser received it; while playing, the moment the step
// began) to the next frame. The end is a message posted from that frame's requestAnimationFrame callback:
// the browser delivers it after the frame's work on the main thread (style, layout, paint and the commit
// to the compositor), so it arrives when the frame is ready to be shown; rasterising and compositing, on
// other threads, are not included. The transport's status line shows it as "paint", beside the engine's
// own time for the step (trace.stepMs: run.step(), the decoder step in WebAssembly).
// tools/bench/paint.mjs measures the same from outside the page.

/**
 * Calls callback(now) once the next frame's main-thread work is done. Called from a requestAnimationFrame
 * callback (inFrame: true), the frame is the one under way, which shows what that callback drew.
 */
export function afterNextFrame(callback, { inFrame = false } = {}) {
  const post = () => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      callback(performance.now());
    };
    channel.port2.postMessage(null);
  };
  if (inFrame) post();
  else requestAnimationFrame(post);
}

/** Runs `work` when the browser is idle (Safari has no requestIdleCallback: a short timeout there). */
export const whenIdle = (work, timeout = 250) => (window.requestIdleCallback ? requestIdleCallback(work, { timeout }) : setTimeout(work, 30));
