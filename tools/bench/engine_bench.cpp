#include "engine_bench.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "matvec_bench.h"
#include "stepwise.h"
#include "timing.h"

namespace stepwise::bench {

namespace {

using nlohmann::json;

bool wants(const json& options, const char* section) {
  if (!options.contains("sections")) return true;
  for (const auto& s : options["sections"])
    if (s == section) return true;
  return false;
}

json describe(const Model& model) {
  const ModelConfig& c = model.config();
  return {{"name", c.name},
          {"d_model", c.d_model},
          {"n_heads", c.n_heads},
          {"n_encoder_layers", c.n_encoder_layers},
          {"n_decoder_layers", c.n_decoder_layers},
          {"d_ff", c.d_ff},
          {"source_vocab", c.source_vocab.size()},
          {"target_vocab", c.target_vocab.size()},
          {"max_source_len", c.max_source_len},
          {"max_target_len", c.max_target_len},
          {"parameters", model.parameter_count()},
          {"weight_bytes", model.weight_bytes()}};  // as held in memory: int8 matrices, or dequantized (LoadOptions)
}

// Floating-point operations of one decoder step whose self-attention reads `keys` cached positions and
// whose cross-attention reads `source` encoder positions: the matrix-vector products (and their
// biases) plus the attention dot products and weighted sums. Norms, softmax and activations are
// left out (a few percent for these shapes), so the achieved rate is a slight underestimate.
double step_flops(const ModelConfig& c, int keys, int source) {
  const int d = c.d_model;
  double per_layer = matvec_flops(3 * d, d) + 4.0 * keys * d + matvec_flops(d, d);  // masked self-attention
  if (c.has_encoder()) per_layer += matvec_flops(d, d) + 4.0 * source * d + matvec_flops(d, d);  // cross
  per_layer += matvec_flops(c.d_ff, d) + matvec_flops(d, c.d_ff);  // feed-forward
  return c.n_decoder_layers * per_layer + matvec_flops(c.target_vocab.size(), d);
}

// The distinct matrix-vector shapes of a decoder step: in_proj, out_proj (and cross q), linear1,
// linear2, the generator.
std::vector<std::pair<int, int>> model_shapes(const ModelConfig& c) {
  const int d = c.d_model;
  std::vector<std::pair<int, int>> shapes = {{3 * d, d}, {d, d}, {c.d_ff, d}, {d, c.d_ff}, {c.target_vocab.size(), d}};
  std::vector<std::pair<int, int>> unique;
  for (const auto& s : shapes)
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
  return unique;
}

// Step latency against position: the step that feeds token number p (1-based), i.e. whose masked
// self-attention reads p cached keys. The state is filled up to p - 1 once; the timed call rewinds
// state.position to p - 1 and repeats exactly that step (it rewrites cache row p - 1 with the same values).
// With `probing`, the same step is also timed with a StepProbe attached (sized like the state), the two
// taking turns sample by sample: "us" is the step as it runs without a probe, "us_probe" with one.
json positions_benchmark(const Model& model, const std::vector<int>& source, const std::vector<int>& wanted, int samples,
                         double min_seconds, bool probing) {
  const ModelConfig& c = model.config();
  EncoderOutput encoder;
  if (c.has_encoder()) encode(model, source, &encoder);
  const EncoderOutput* enc = c.has_encoder() ? &encoder : nullptr;
  DecoderState state(c);
  StepScratch scratch(c);
  std::unique_ptr<StepProbe> probe;
  if (probing) probe = std::make_unique<StepProbe>(c, state.capacity(), c.max_source_len);
  std::vector<float> logits(c.target_vocab.size());
  std::set<int> positions;
  for (int p : wanted)
    if (p >= 1 && p <= c.max_target_len) positions.insert(p);
  const auto token_at = [&](int i) { return i == 0 ? c.bos : (3 + 7 * i) % c.target_vocab.size(); };
  json out = json::array();
  for (int p : positions) {
    while (state.position < p - 1) decoder_step(model, enc, &state, &scratch, token_at(state.position), logits.data());
    const auto step = [&] {
      state.position = p - 1;
      decoder_step(model, enc, &state, &scratch, token_at(p - 1), logits.data());
    };
    const double flops = step_flops(c, p, encoder.length);
    if (!probing) {
      const Stats st = time_calls(step, samples, min_seconds);
      out.push_back({{"position", p}, {"us", st.scaled(1e6)}, {"flops", flops}, {"gflops", st.rate(flops * 1e-9)}});
      continue;
    }
    const auto probed_step = [&] {
      state.position = p - 1;
      decoder_step(model, enc, &state, &scratch, token_at(p - 1), logits.data(), probe.get());
    };
    std::vector<double> ratios;
    const auto [off, on] = time_call_pair(step, probed_step, samples, min_seconds, &ratios);
    out.push_back({{"position", p}, {"us", off.scaled(1e6)}, {"us_probe", on.scaled(1e6)}, {"probe_over_off", ratio_json(ratios)},
                   {"flops", flops}, {"gflops", off.rate(flops * 1e-9)}});
  }
  return out;
}

}  // namespace

LoadOptions load_options(const json& options) {
  LoadOptions load;
  if (options.contains("dequantize_up_to")) load.dequantize_up_to = options["dequantize_up_to"].get<long>();
  return load;
}

json run_engine_benchmark(const std::shared_ptr<const Model>& model, const json& options) {
  const ModelConfig& c = model->config();
  const int samples = options.value("samples", 5);
  const double min_seconds = options.value("min_seconds", 0.02);
  const std::vector<std::string> words = options.value("words", std::vector<std::string>{});
  // Also time the positions' steps with a StepProbe attached, and the greedy conversions with
  // Generator::set_probe(true) (each taking turns with the same work unprobed).
  const bool probing = options.value("probe", false);
  json result = {{"kernels", kernels::name()}, {"model", describe(*model)}};

  std::vector<std::vector<int>> inputs;
  for (const std::string& w : words) inputs.push_back(encode_input(c, w));
  if (inputs.empty()) return result;

  // Warm-up: WebAssembly engines compile a fast baseline first and optimize hot functions later; run
  // whole conversions until the optimized code is surely in place before timing anything.
  {
    Generator warm(model, DecodeOptions{});
    const double until = now_seconds() + options.value("warmup_seconds", 0.2);
    do {
      warm.start(inputs[0]);
      for (int i = 0; i < 4 && !warm.done(); ++i) warm.step();
    } while (now_seconds() < until);
  }

  if (wants(options, "matvec")) {
    std::vector<std::pair<int, int>> shapes = model_shapes(c);
    for (const auto& s : options.value("matvec_shapes", std::vector<std::pair<int, int>>{}))
      if (std::find(shapes.begin(), shapes.end(), s) == shapes.end()) shapes.push_back(s);
    result["matvec"] = matvec_benchmark(shapes, samples, min_seconds);
  }

  if (wants(options, "positions"))
    result["positions"] = positions_benchmark(*model, inputs[0], options.value("positions", std::vector<int>{1}), samples,
                                              min_seconds, probing);

  if (!wants(options, "greedy")) return result;
  // Whole conversions, as a user runs them: text -> ids -> encoder -> greedy steps to </s> -> text.
  DecodeOptions decode;
  decode.max_length = options.value("max_length", 0);
  Generator generator(model, decode);
  std::vector<std::vector<int>> outputs(words.size());
  std::vector<std::string> texts(words.size());
  long long tokens = 0;
  auto convert_all = [&] {
    tokens = 0;
    for (size_t i = 0; i < words.size(); ++i) {
      generator.start(encode_input(c, words[i]));
      while (!generator.done()) generator.step();
      texts[i] = decode_output(c, generator.output());
      outputs[i] = generator.output();
      tokens += static_cast<long long>(generator.output().size());
    }
  };
  // The same conversions with the generator's probe on: each step records the step that chose its token.
  Generator probed(model, decode);
  probed.set_probe(true);
  std::vector<std::vector<int>> probed_outputs(words.size());
  auto convert_all_probed = [&] {
    for (size_t i = 0; i < words.size(); ++i) {
      probed.start(encode_input(c, words[i]));
      while (!probed.done()) probed.step();
      probed_outputs[i] = probed.output();
    }
  };
  std::vector<double> greedy_ratios;
  Stats greedy, greedy_probe;
  if (probing) std::tie(greedy, greedy_probe) = time_call_pair(convert_all, convert_all_probed, samples, min_seconds, &greedy_ratios);
  else greedy = time_calls(convert_all, samples, min_seconds);
  // The encoder alone, to separate the decoder steps' share of a conversion.
  EncoderOutput encoder;
  const Stats encoding = time_calls(
      [&] {
        if (c.has_encoder())
          for (const auto& in : inputs) encode(*model, in, &encoder);
      },
      samples, min_seconds);
  const double n_words = static_cast<double>(words.size()), n_tokens = static_cast<double>(tokens);
  result["greedy"] = {
      {"words", words.size()},
      {"tokens", tokens},
      {"max_length", decode.max_length},
      {"seconds_per_pass", greedy.scaled(1.0)},
      {"us_per_token", greedy.scaled(1e6 / n_tokens)},
      {"tokens_per_s", greedy.rate(n_tokens)},
      {"words_per_s", greedy.rate(n_words)},
      {"encode_us_per_word", encoding.scaled(1e6 / n_words)},
      {"us_per_step", (greedy.median - encoding.median) * 1e6 / n_tokens},
      {"inputs", inputs},
      {"outputs", outputs},
      {"texts", texts}};
  if (probing)
    result["greedy"]["probe"] = {{"us_per_token", greedy_probe.scaled(1e6 / n_tokens)},
                                 {"us_per_step", (greedy_probe.median - encoding.median) * 1e6 / n_tokens},
                                 {"probe_over_off", ratio_json(greedy_ratios)},
                                 {"outputs_equal", probed_outputs == outputs}};

  if (!wants(options, "forward")) return result;
  // The teacher-forced pass over what greedy decoding fed: <s> + the output without its final </s>.
  std::vector<std::vector<int>> targets;
  for (const auto& out : outputs) {
    std::vector<int> t = {c.bos};
    for (int id : out)
      if (id != c.eos) t.push_back(id);
    if (static_cast<int>(t.size()) > c.max_target_len) t.resize(c.max_target_len);
    targets.push_back(t);
  }
  const Stats forced = time_calls(
      [&] {
        for (size_t i = 0; i < inputs.size(); ++i) forward(*model, c.has_encoder() ? inputs[i] : std::vector<int>{}, targets[i], true);
      },
      samples, min_seconds);
  result["forward"] = {{"words", words.size()}, {"us_per_word", forced.scaled(1e6 / n_words)}, {"targets", targets}};
  return result;
}

}  // namespace stepwise::bench
