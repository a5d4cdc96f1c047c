// Timing for the benchmarks, identical natively and in WebAssembly.
//
// Every sample times a batch of calls lasting at least `min_seconds`, so that a coarse clock (a browser
// clamps performance.now(); std::chrono::steady_clock reads it in WebAssembly) still resolves it;
// the reported figures are per call. Medians, with min and max, over `samples` batches.
#pragma once

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace stepwise::bench {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stats {
  double median = 0, min = 0, max = 0;  // seconds per call
  int samples = 0;
  long long calls_per_sample = 0;

  // Per-call seconds scaled by `factor` (1e6: microseconds).
  nlohmann::json scaled(double factor) const {
    return {{"median", median * factor}, {"min", min * factor}, {"max", max * factor}, {"samples", samples},
            {"calls_per_sample", calls_per_sample}};
  }
  // `work / seconds`: a rate, whose min comes from the slowest sample.
  nlohmann::json rate(double work) const {
    return {{"median", work / median}, {"min", work / max}, {"max", work / min}, {"samples", samples},
            {"calls_per_sample", calls_per_sample}};
  }
};

inline Stats summarize(std::vector<double> values, long long calls_per_sample) {
  std::sort(values.begin(), values.end());
  Stats st;
  const size_t k = values.size();
  st.median = k % 2 ? values[k / 2] : 0.5 * (values[k / 2 - 1] + values[k / 2]);
  st.min = values.front();
  st.max = values.back();
  st.samples = static_cast<int>(k);
  st.calls_per_sample = calls_per_sample;
  return st;
}

// One warm-up call, then how many calls fill min_seconds.
template <typename Call>
long long calibrate(Call&& call, double min_seconds) {
  call();
  long long n = 1;
  for (;;) {
    const double t0 = now_seconds();
    for (long long i = 0; i < n; ++i) call();
    const double t = now_seconds() - t0;
    if (t >= min_seconds || n >= (1LL << 30)) return n;
    n = t <= 0 ? n * 16 : std::max(n * 2, static_cast<long long>(static_cast<double>(n) * min_seconds * 1.2 / t) + 1);
  }
}

// Seconds per call over a batch of n calls.
template <typename Call>
double sample(Call&& call, long long n) {
  const double t0 = now_seconds();
  for (long long i = 0; i < n; ++i) call();
  return (now_seconds() - t0) / static_cast<double>(n);
}

// Times `call` (no arguments): calibrate, then `samples` batches.
template <typename Call>
Stats time_calls(Call&& call, int samples, double min_seconds) {
  const long long n = calibrate(call, min_seconds);
  std::vector<double> per_call;
  for (int s = 0; s < std::max(1, samples); ++s) per_call.push_back(sample(call, n));
  return summarize(per_call, n);
}

// Times two calls taking turns, sample by sample (each calibrated on its own), so that a change in the
// machine's load during the measurement hits both alike; `ratio` gets b / a per pair of samples.
template <typename A, typename B>
std::pair<Stats, Stats> time_call_pair(A&& a, B&& b, int samples, double min_seconds, std::vector<double>* ratio = nullptr) {
  const long long na = calibrate(a, min_seconds), nb = calibrate(b, min_seconds);
  std::vector<double> ta, tb;
  for (int s = 0; s < std::max(1, samples); ++s) {
    ta.push_back(sample(a, na));
    tb.push_back(sample(b, nb));
    if (ratio) ratio->push_back(tb.back() / ta.back());
  }
  return {summarize(ta, na), summarize(tb, nb)};
}

// A ratio's median and range over its samples.
inline nlohmann::json ratio_json(const std::vector<double>& ratios) {
  const Stats r = summarize(ratios, 1);
  return {{"median", r.median}, {"min", r.min}, {"max", r.max}};
}

}  // namespace stepwise::bench
