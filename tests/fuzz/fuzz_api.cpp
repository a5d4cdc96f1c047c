// libFuzzer target: the decoding API driven by a byte stream read as a sequence of calls -- start on
// arbitrary text, step, reset, change temperature / top-k / top-p / beam width / seed / lengths to
// arbitrary values (NaN and infinities included), teacher-forced passes with and without the mask,
// raw decoder steps with arbitrary tokens -- on small fixture models. Every call must succeed or throw
// stepwise::Error; what succeeds must keep its invariants (finite probabilities summing to 1, tokens in
// the vocabulary).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "stepwise.h"

using namespace stepwise;

namespace {

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t u32() { return u8() | u8() << 8 | u8() << 16 | static_cast<uint32_t>(u8()) << 24; }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  float f32() {
    uint32_t bits = u32();
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  // small values are the interesting ones for sizes; raw values still come through sometimes
  int small_int() { return (u8() & 1) ? i32() : static_cast<int>(u8() % 12) - 2; }
  std::string text() {
    const size_t n = u8() % 24;
    std::string s;
    for (size_t i = 0; i < n && pos_ < size_; ++i) s += static_cast<char>(data_[pos_++]);
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

std::shared_ptr<const Model> model(int which) {
  static std::map<int, std::shared_ptr<const Model>> models;
  static const char* names[] = {"postnorm_relu_sinusoidal", "decoder_only_prenorm_gelu", "prenorm_gelu_learned_tied"};
  auto& m = models[which];
  if (!m) m = Model::load_file(std::string(STEPWISE_FIXTURES) + "/" + names[which] + ".safetensors");
  return m;
}

void check_distribution(const std::vector<float>& probs) {
  double sum = 0;
  for (float p : probs) {
    if (!(p >= 0.0f && p <= 1.0f)) __builtin_trap();
    sum += p;
  }
  if (std::fabs(sum - 1.0) > 1e-3) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  std::shared_ptr<const Model> m = model(in.u8() % 3);
  DecodeOptions options;
  std::optional<Generator> generator;
  std::optional<BeamSearch> beam;
  std::vector<int> input;
  for (int calls = 0; !in.empty() && calls < 64; ++calls) {
    try {
      switch (in.u8() % 10) {
        case 0: {  // change the options to arbitrary values
          DecodeOptions o;
          o.strategy = static_cast<Strategy>(in.u8() % 3);
          o.sampling = {in.f32(), in.small_int(), in.f32(), static_cast<uint64_t>(in.u32())};
          o.beam_width = in.small_int();
          o.length_penalty = in.f32();
          o.n_best = in.small_int();
          o.max_length = in.small_int();
          o.validate();
          options = o;
          generator.reset();
          beam.reset();
          break;
        }
        case 1:  // start a run on arbitrary text
          input = encode_input(m->config(), in.text());
          if (options.strategy == Strategy::Beam) {
            beam.emplace(m, options);
            beam->start(input);
          } else {
            generator.emplace(m, options);
            generator->start(input);
          }
          break;
        case 2:  // one step
          if (generator) {
            const int token = generator->step();
            if (token < 0 || token >= m->config().target_vocab.size()) __builtin_trap();
            check_distribution(generator->probs());
          } else if (beam) {
            beam->step();
          }
          break;
        case 3:  // run to the end
          if (generator)
            while (!generator->done()) generator->step();
          if (beam) beam->run();
          break;
        case 4:  // reset: start again on the same input
          if (generator) generator->start(input);
          if (beam) beam->start(input);
          break;
        case 5: {  // teacher forcing, with or without the mask
          const bool causal = in.u8() & 1;
          std::vector<int> target = {m->config().bos};
          for (int id : encode_target(m->config(), in.text())) target.push_back(id);
          const auto source = m->config().has_encoder() ? encode_input(m->config(), in.text()) : std::vector<int>{};
          ForwardResult r = forward(*m, source, target, causal);
          if (!r.logits.allFinite()) __builtin_trap();
          break;
        }
        case 6: {  // raw steps with arbitrary tokens
          EncoderOutput enc;
          const auto& c = m->config();
          if (c.has_encoder() && (in.u8() & 1)) encode(*m, {in.small_int()}, &enc);
          DecoderState state(c);
          StepScratch scratch(c);
          std::vector<float> logits(c.target_vocab.size());
          for (int k = in.u8() % 4; k >= 0; --k)
            decoder_step(*m, c.has_encoder() ? &enc : nullptr, &state, &scratch, in.small_int(), logits.data());
          break;
        }
        case 7: {  // arbitrary source ids straight into the encoder
          std::vector<int> ids;
          for (int k = in.u8() % 16; k > 0; --k) ids.push_back(in.small_int());
          EncoderOutput enc;
          encode(*m, ids, &enc);
          break;
        }
        case 8:  // switch models mid-run (the old run keeps its model alive)
          m = model(in.u8() % 3);
          input.clear();
          break;
        case 9:  // read results of whatever is there
          if (beam) beam->results();
          if (generator) decode_output(m->config(), generator->output());
          break;
      }
    } catch (const Error&) {
    }
  }
  return 0;
}
