// Hostile callers of the engine's C++ API: options out of range, one model's objects handed to another,
// requests that would need gigabytes, and values that stop being finite. Each must end in a
// stepwise::Error that says what is wrong -- never a crash, std::bad_alloc or silent garbage.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <fstream>
#include <limits>
#include <typeinfo>

#include "fixtures.h"
#include "hostile_models.h"

using namespace stepwise;
using Catch::Matchers::Contains;

namespace {

// The message of the stepwise::Error that f() throws; any other outcome fails the test.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected a stepwise::Error, got " << typeid(e).name() << ": " << e.what());
  }
  FAIL("expected a stepwise::Error, nothing was thrown");
  return "";
}

// This process's resident memory in MiB (Linux).
double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// 4 encoder + 64 decoder layers, max_source_len = max_target_len = 8192: about 200 kB on disk, but one
// decoder state sized for max_target_len is about 36 MiB, and a beam of 64 needs 128 of them.
const std::shared_ptr<const Model>& deep_model() {
  static const std::shared_ptr<const Model> model = [] {
    const std::vector<uint8_t> bytes = fixtures::deep_model(4, 64, 8192);
    return Model::load_bytes(bytes.data(), bytes.size(), "deep.safetensors");
  }();
  return model;
}

DecodeOptions beam_options(int width, int max_length) {
  DecodeOptions o;
  o.strategy = Strategy::Beam;
  o.beam_width = width;
  o.max_length = max_length;
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Options

TEST_CASE("BeamSearch checks its options before it allocates anything", "[hostile]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  for (int width : {-1, 0, 65, INT_MIN}) {
    INFO("beam width " << width);
    CHECK(error_of([&] { BeamSearch beam(model, beam_options(width, 0)); }) ==
          "beam width must be between 1 and 64, got " + std::to_string(width));
  }
}

// ---------------------------------------------------------------------------------------------------
// One model's objects handed to another

TEST_CASE("decoder_step refuses an encoder output, state or scratch made for another model", "[hostile]") {
  auto small = fixtures::load("prenorm_gelu_learned_tied");  // 1 decoder layer, d_model 16, 4 heads
  auto big = fixtures::load("prenorm_relu_mixed_depth");     // 3 decoder layers, d_model 24, 2 heads
  const ModelConfig& bc = big->config();
  const std::vector<int> source = {1, 2, 3, 4};
  EncoderOutput small_enc, big_enc;
  encode(*small, source, &small_enc);
  encode(*big, source, &big_enc);
  DecoderState big_state(bc), small_state(small->config());
  StepScratch big_scratch(bc), small_scratch(small->config());
  std::vector<float> logits(static_cast<size_t>(bc.target_vocab.size()));
  auto step = [&](const Model& m, const EncoderOutput* e, DecoderState* s, StepScratch* scratch) {
    return error_of([&] { decoder_step(m, e, s, scratch, bc.bos, logits.data()); });
  };

  CHECK_THAT(step(*big, &small_enc, &big_state, &big_scratch),
             Contains("the encoder output was made by another model, not by '") &&
                 Contains("prenorm_relu_mixed_depth.safetensors': encode the source with the model that decodes it"));
  CHECK_THAT(step(*big, &big_enc, &small_state, &big_scratch),
             Contains("this decoder state does not fit the model") && Contains("1 layer") &&
                 Contains("this model has 3 decoder layers of d_model 24 and 2 heads"));
  CHECK_THAT(step(*big, &big_enc, &big_state, &small_scratch),
             Contains("this step scratch was made for another model: it has room for d_model 16 and d_ff 24; "
                      "this model needs d_model 24 and d_ff 48"));
  CHECK(big_state.position == 0);

  SECTION("the same configuration with other weights is another model too") {
    auto f32 = fixtures::load("postnorm_relu_sinusoidal");
    auto f16 = fixtures::load("postnorm_relu_sinusoidal_f16");
    EncoderOutput enc;
    encode(*f16, source, &enc);
    DecoderState state(f32->config());
    StepScratch scratch(f32->config());
    CHECK_THAT(error_of([&] { decoder_step(*f32, &enc, &state, &scratch, f32->config().bos, logits.data()); }),
               Contains("made by another model"));
  }
  SECTION("a decoder-only model takes no encoder output") {
    auto gpt = fixtures::load("decoder_only_postnorm_relu");
    DecoderState state(gpt->config());
    StepScratch scratch(gpt->config());
    CHECK_THAT(error_of([&] { decoder_step(*gpt, &big_enc, &state, &scratch, gpt->config().bos, logits.data()); }),
               Contains("this model is decoder-only: pass no encoder output"));
  }
  SECTION("fields changed by hand are caught too") {
    big_state.position = -1;
    CHECK_THAT(step(*big, &big_enc, &big_state, &big_scratch), Contains("position -1"));
    big_state.position = 0;
    big_state.cross_attention.resize(bc.n_decoder_layers * bc.n_heads, 2);  // rows for 2 source tokens, not 4
    CHECK_THAT(step(*big, &big_enc, &big_state, &big_scratch),
               Contains("this decoder state has cross-attention rows for 2 source tokens; the encoder output has 4"));
    big_enc.cross_values.pop_back();
    CHECK_THAT(step(*big, &big_enc, &big_state, &big_scratch), Contains("the encoder output does not fit the model"));
  }
}

// ---------------------------------------------------------------------------------------------------
// Memory: sized for the request, refused past the budget (limits::kMaxRunBytes)

TEST_CASE("a run's memory follows its request, not the model's limits", "[hostile][memory]") {
  const auto& model = deep_model();
  const std::vector<int> word = {1, 2, 3};
  const double before = resident_mib();
  SECTION("greedy, one token") {
    DecodeOptions o;
    o.max_length = 1;
    Generator g(model, o);
    g.start(word);
    while (!g.done()) g.step();
    CHECK(g.output().size() == 1);
    CHECK(g.state().capacity() == 1);  // <s> only (the token chosen after it is never fed), not 8192 positions
  }
  SECTION("beam 64, one token") {
    BeamSearch beam(model, beam_options(64, 1));
    beam.start(word);
    beam.run();
    CHECK(beam.results().at(0).tokens.size() == 1);
  }
  SECTION("beam 64 up to max_target_len: refused before anything is allocated, with the sizes") {
    BeamSearch beam(model, beam_options(64, 0));
    const std::string message = error_of([&] { beam.start(word); });
    CHECK_THAT(message, Contains("this run needs 4.") && Contains("GiB, more than the 1 GiB budget") &&
                            Contains("128 decoder states (2 per beam, 64 beams)") && Contains("64 layers") &&
                            Contains("8192 positions") && Contains("lower max_length or the beam width"));
    CHECK_THAT(error_of([&] { beam.step(); }), Contains("never started"));
  }
  SECTION("greedy up to max_target_len fits: one state of 8192 positions") {
    Generator g(model, DecodeOptions{});
    g.start(word);
    g.step();
    CHECK(g.state().capacity() == 8192);
  }
  CHECK(resident_mib() - before < 48);  // the greedy run's 36 MiB state at most (a beam of 64 took 128 x 40 MiB)
}

TEST_CASE("a long input is refused with the sizes, not with std::bad_alloc", "[hostile][memory]") {
  const auto& model = deep_model();
  const ModelConfig& c = model->config();
  const std::vector<int> word(8000, 1);  // the encoder's attention alone: 4 layers x 2 heads x 8000 x 8000
  const double before = resident_mib();
  DecodeOptions one_token;
  one_token.max_length = 1;
  Generator g(model, one_token);
  CHECK_THAT(error_of([&] { g.start(word); }),
             Contains("this run needs 1.9") && Contains("more than the 1 GiB budget") &&
                 Contains("the encoder output for 8000 source tokens") &&
                 Contains("4 layers x 2 heads x 8000 x 8000 attention weights") && Contains("use a shorter input"));
  EncoderOutput enc;
  CHECK_THAT(error_of([&] { encode(*model, word, &enc); }),
             Contains("encoding 8000 source tokens needs 1.9") && Contains("more than the 1 GiB budget"));
  CHECK_THAT(error_of([&] { forward(*model, word, {c.bos, 3}, true); }), Contains("more than the 1 GiB budget"));
  // a long target: 64 layers x 2 heads x 8192 x 8192 self-attention weights in the teacher-forced pass
  std::vector<int> target(8192, 3);
  target[0] = c.bos;
  CHECK_THAT(error_of([&] { forward(*model, {1, 2, 3}, target, true); }),
             Contains("the teacher-forced pass over 3 source and 8192 target tokens needs 32.") &&
                 Contains("more than the 1 GiB budget"));
  CHECK(resident_mib() - before < 16);
  // and what fits still runs
  g.start({1, 2, 3});
  CHECK_NOTHROW(g.step());
}

// ---------------------------------------------------------------------------------------------------
// Values that stop being finite

TEST_CASE("a step whose values stop being finite fails, naming the position and the layer", "[hostile]") {
  // The loader bounds weights (+-65504), so a file cannot make float32 overflow; values the caller can
  // reach -- the KV cache and the encoder's cross-attention keys and values -- still can be Inf or NaN.
  auto model = fixtures::load("postnorm_relu_sinusoidal");  // 2 decoder layers
  const ModelConfig& c = model->config();
  EncoderOutput enc;
  encode(*model, {1, 2, 3, 4}, &enc);
  DecoderState state(c);
  StepScratch scratch(c);
  std::vector<float> logits(static_cast<size_t>(c.target_vocab.size()));
  decoder_step(*model, &enc, &state, &scratch, c.bos, logits.data());
  decoder_step(*model, &enc, &state, &scratch, 3, logits.data());
  auto next = [&] { return error_of([&] { decoder_step(*model, &enc, &state, &scratch, 4, logits.data()); }); };
  SECTION("an Inf in the self-attention cache of layer 1") {
    state.values[1].row(0).setConstant(std::numeric_limits<float>::infinity());
    CHECK_THAT(next(), Contains("decoder step at position 2: the output of layer 1 (transformer.decoder.layers.1) is not finite"));
    CHECK(state.position == 2);
  }
  SECTION("a NaN in the cross-attention values of layer 0") {
    enc.cross_values[0].setConstant(std::numeric_limits<float>::quiet_NaN());
    CHECK_THAT(next(), Contains("decoder step at position 2: the output of layer 0 (transformer.decoder.layers.0) is not finite"));
  }
}
