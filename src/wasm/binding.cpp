// The WebAssembly binding: a C API over the engine for web/stepwise.js. It only converts arguments,
// keeps objects behind integer handles (so a stale or bogus handle is an error, never a crash) and
// turns C++ exceptions into a status plus a message (sw_last_error). No model logic lives here.
//
// Conventions: functions returning int give -1 on error (0 for handles); pointers are views into the
// module's memory, valid until the next call that may allocate. Running out of memory (std::bad_alloc,
// with the heap at its maximum) is an error like any other: "out of WebAssembly memory (...)".
#include <emscripten/emscripten.h>
#include <emscripten/heap.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>
#include <string>

#include "stepwise.h"

using namespace stepwise;

namespace {

// The last error's message. Its buffer is reserved up front so that recording an error never needs
// memory when the heap is exhausted (a throw from inside a catch handler would abort the module).
std::string last_error = [] {
  std::string s;
  s.reserve(1024);
  return s;
}();

void set_error(const char* message) noexcept {
  try {
    last_error.assign(message);
  } catch (...) {  // longer than the reserved buffer, and no memory left to grow it: keep what fits
    last_error.assign(message, std::min(std::strlen(message), last_error.capacity()));
  }
}

// tools/train_g2p.py's --label-smoothing: the loss the page reports "as in training" uses it too.
constexpr double kTrainingLabelSmoothing = 0.1;

struct Session {
  std::shared_ptr<const Model> model;
  DecodeOptions options;
  std::vector<int> input;
  std::optional<Generator> generator;  // greedy and sampling runs
  std::optional<BeamSearch> beam;      // beam-search runs
  ForwardResult forward;               // the last teacher-forced pass
  std::vector<int> forward_target;
  bool probe = false;                  // runs started from now on record StepProbes
  bool started = false;                // a run was started (its input may be empty: decoder-only from <s>)
  std::vector<double> loss;            // the last teacher-forced pass's loss: [cross-entropy, smoothed, nll...]
  std::string text;                    // the last string handed out
  std::vector<int> scratch;            // the last int array handed out
};

std::map<int, std::shared_ptr<const Model>> models;
std::map<int, Session> sessions;
int next_handle = 1;

// Runs f; on an exception records its message and returns on_error instead.
template <typename F, typename R>
R guarded(F&& f, R on_error) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    char message[128];
    std::snprintf(message, sizeof message, "out of WebAssembly memory (%zu bytes in use, at most %zu)",
                  static_cast<size_t>(mallinfo().uordblks), emscripten_get_heap_max());
    set_error(message);
  } catch (const std::exception& e) {
    set_error(e.what());
  } catch (...) {
    set_error("unknown error");
  }
  return on_error;
}

const std::shared_ptr<const Model>& model_at(int handle) {
  auto it = models.find(handle);
  if (it == models.end()) fail("no model with handle ", handle, " (it was freed, or never loaded)");
  return it->second;
}

Session& session_at(int handle) {
  auto it = sessions.find(handle);
  if (it == sessions.end()) fail("no session with handle ", handle, " (it was freed, or never created)");
  return it->second;
}

Generator& generator_of(Session& s) {
  if (s.beam) fail("this is a beam-search run: use the sw_beam_* calls");
  if (!s.generator || !s.generator->started()) fail("step before encode: start a run first");
  return *s.generator;
}

BeamSearch& beam_of(Session& s) {
  if (!s.beam) fail("this is not a beam-search run: configure strategy 2 (beam) and start one");
  return *s.beam;
}

const DecoderState& beam_state(Session& s, int i) {
  BeamSearch& beam = beam_of(s);
  if (i < 0 || i >= static_cast<int>(beam.live().size()))
    fail("no live beam ", i, " (there are ", beam.live().size(), ")");
  return beam.state(i);
}

const EncoderOutput& encoder_of(const Session& s) {
  if (s.generator && s.generator->started()) return s.generator->encoder();
  if (s.beam) return s.beam->encoder();
  fail("no run in progress: start one first");
}

// --- the probe: named views of StepProbe / ForwardProbe fields, no arithmetic ---------------------------

struct View {
  const float* data;
  int rows, cols, stride;  // row r starts at data + r * stride
};
View vec(const Eigen::VectorXf& v) { return {v.data(), 1, static_cast<int>(v.size()), static_cast<int>(v.size())}; }
View mat(const RowMatrix& m, int rows = -1, int cols = -1) {
  return {m.data(), rows < 0 ? static_cast<int>(m.rows()) : rows, cols < 0 ? static_cast<int>(m.cols()) : cols,
          static_cast<int>(m.cols())};
}

// The last step's probe of a greedy/sampling run: "token_embedding", "positional", "final_normed";
// per layer "input", "hidden", "{self,cross,ff}_block.{normed,output,sum}",
// "{self,cross}_attention.{query,key,value,context}", "{self,cross}_attention.{raw,scaled,weights}" (per
// head: one row over the keys attended); and the caches the step read: "cache.{key,value}" (self-attention,
// positions 0..pos), "cross_cache.{key,value}" (the encoder's, computed once), "memory" (encoder output).
View step_view(const Generator& g, const std::string& name, int layer, int head) {
  const StepProbe* p = g.probe();
  const ModelConfig& c = g.model().config();
  if (!p || p->position < 0) fail("no probe to read: start the run with { probe: true } and step it first");
  if (name == "token_embedding") return vec(p->token_embedding);
  if (name == "positional") return vec(p->positional);
  if (name == "final_normed") return vec(p->final_normed);
  if (name == "memory" && c.has_encoder()) return mat(g.encoder().memory);
  if (layer < 0 || layer >= c.n_decoder_layers) fail("no decoder layer ", layer, " (the model has ", c.n_decoder_layers, ")");
  const LayerProbe& L = p->layers[static_cast<size_t>(layer)];
  const int fed = p->position + 1;
  if (name == "input") return vec(L.input);
  if (name == "hidden") return vec(L.hidden);
  if (name == "cache.key") return mat(g.state().keys[static_cast<size_t>(layer)], fed);
  if (name == "cache.value") return mat(g.state().values[static_cast<size_t>(layer)], fed);
  if (c.has_encoder() && name == "cross_cache.key") return mat(g.encoder().cross_keys[static_cast<size_t>(layer)]);
  if (c.has_encoder() && name == "cross_cache.value") return mat(g.encoder().cross_values[static_cast<size_t>(layer)]);
  for (const auto& [prefix, block] : {std::pair{"self_block.", &L.self_block}, {"cross_block.", &L.cross_block}, {"ff_block.", &L.ff_block}}) {
    if (name.rfind(prefix, 0) != 0 || (block == &L.cross_block && !c.has_encoder())) continue;
    const std::string field = name.substr(std::strlen(prefix));
    if (field == "normed") return vec(block->normed);
    if (field == "output") return vec(block->output);
    if (field == "sum") return vec(block->sum);
  }
  for (const auto& [prefix, a] : {std::pair{"self_attention.", &L.self_attention}, {"cross_attention.", &L.cross_attention}}) {
    if (name.rfind(prefix, 0) != 0 || (a == &L.cross_attention && !c.has_encoder())) continue;
    const std::string field = name.substr(std::strlen(prefix));
    if (field == "query") return vec(a->query);
    if (field == "key" && a == &L.self_attention) return vec(a->key);
    if (field == "value" && a == &L.self_attention) return vec(a->value);
    if (field == "context") return vec(a->context);
    if (head < 0 || head >= c.n_heads) fail("no head ", head, " (the model has ", c.n_heads, ")");
    if (field == "raw") return {a->raw.row(head).data(), 1, a->keys, a->keys};
    if (field == "scaled") return {a->scaled.row(head).data(), 1, a->keys, a->keys};
    if (field == "weights") return {a->weights.row(head).data(), 1, a->keys, a->keys};
  }
  fail("the step probe has no '", name, "'");
}

// The teacher-forced pass's probe: the same names as [T, ...] matrices (attention: [T, keys] per head,
// plus "{self,cross}_attention.mask"; "{self,cross}_attention.{key,value}" are [keys, d]).
View forward_view(const Session& s, const std::string& name, int layer, int head) {
  const ForwardProbe* p = s.forward.probe.get();
  const ModelConfig& c = s.model->config();
  if (!p) fail("no probe to read: run forward() with { probe: true } first");
  if (name == "token_embedding") return mat(p->token_embedding);
  if (name == "positional") return mat(p->positional);
  if (name == "final_normed") return mat(p->final_normed);
  if (layer < 0 || layer >= c.n_decoder_layers) fail("no decoder layer ", layer, " (the model has ", c.n_decoder_layers, ")");
  const SequenceLayerProbe& L = p->layers[static_cast<size_t>(layer)];
  if (name == "input") return mat(L.input);
  if (name == "hidden") return mat(L.hidden);
  for (const auto& [prefix, block] : {std::pair{"self_block.", &L.self_block}, {"cross_block.", &L.cross_block}, {"ff_block.", &L.ff_block}}) {
    if (name.rfind(prefix, 0) != 0 || (block == &L.cross_block && !c.has_encoder())) continue;
    const std::string field = name.substr(std::strlen(prefix));
    if (field == "normed") return mat(block->normed);
    if (field == "output") return mat(block->output);
    if (field == "sum") return mat(block->sum);
  }
  for (const auto& [prefix, a] : {std::pair{"self_attention.", &L.self_attention}, {"cross_attention.", &L.cross_attention}}) {
    if (name.rfind(prefix, 0) != 0 || (a == &L.cross_attention && !c.has_encoder())) continue;
    const std::string field = name.substr(std::strlen(prefix));
    if (field == "query") return mat(a->query);
    if (field == "key") return mat(a->key);
    if (field == "value") return mat(a->value);
    if (field == "context") return mat(a->context);
    if (field == "mask") return mat(a->mask);
    if (head < 0 || head >= c.n_heads) fail("no head ", head, " (the model has ", c.n_heads, ")");
    if (field == "raw") return mat(a->raw[static_cast<size_t>(head)]);
    if (field == "scaled") return mat(a->scaled[static_cast<size_t>(head)]);
    if (field == "weights") return mat(a->weights[static_cast<size_t>(head)]);
  }
  fail("the teacher-forced probe has no '", name, "'");
}

const RowMatrix& head_matrix(const std::vector<RowMatrix>& list, const ModelConfig& c, int layer, int head) {
  const size_t i = static_cast<size_t>(layer) * c.n_heads + head;
  if (layer < 0 || head < 0 || head >= c.n_heads || i >= list.size())
    fail("no attention matrix for layer ", layer, ", head ", head);
  return list[i];
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* sw_version() { return kVersion; }
EMSCRIPTEN_KEEPALIVE const char* sw_kernels() { return kernels::name(); }
EMSCRIPTEN_KEEPALIVE const char* sw_last_error() { return last_error.c_str(); }
// Bytes currently allocated on the module's heap (for the endurance tests: must stay flat).
EMSCRIPTEN_KEEPALIVE double sw_heap_allocated() { return static_cast<double>(mallinfo().uordblks); }
// The most the module's memory may grow to (MAXIMUM_MEMORY): what a model file and its weights must fit in.
EMSCRIPTEN_KEEPALIVE double sw_heap_max() { return static_cast<double>(emscripten_get_heap_max()); }
// Models and sessions not yet freed (for the tests of runs left to the garbage collector).
EMSCRIPTEN_KEEPALIVE int sw_live_handles() { return static_cast<int>(models.size() + sessions.size()); }

// --- models ------------------------------------------------------------------------------------------

// dequantize_up_to: LoadOptions::dequantize_up_to, or -1 for the build's default.
EMSCRIPTEN_KEEPALIVE int sw_model_load(const uint8_t* bytes, int size, const char* origin, int dequantize_up_to) {
  return guarded([&] {
    if (size < 0) fail("negative model size");
    if (bytes == nullptr) fail("no model bytes (null pointer: the allocation for them failed)");
    LoadOptions options;
    if (dequantize_up_to >= 0) options.dequantize_up_to = dequantize_up_to;
    models[next_handle] = Model::load_bytes(bytes, static_cast<size_t>(size), origin ? origin : "model", options);
    return next_handle++;
  }, 0);
}

EMSCRIPTEN_KEEPALIVE int sw_model_free(int m) {
  return guarded([&] {
    model_at(m);
    models.erase(m);
    return 0;
  }, -1);
}

EMSCRIPTEN_KEEPALIVE const char* sw_model_config(int m) {
  return guarded([&] { return model_at(m)->config_json().c_str(); }, static_cast<const char*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE double sw_model_parameters(int m) {
  return guarded([&] { return static_cast<double>(model_at(m)->parameter_count()); }, -1.0);
}

EMSCRIPTEN_KEEPALIVE double sw_model_weight_bytes(int m) {
  return guarded([&] { return static_cast<double>(model_at(m)->weight_bytes()); }, -1.0);
}

// --- sessions: one autoregressive run at a time -------------------------------------------------------

EMSCRIPTEN_KEEPALIVE int sw_session_new(int m) {
  return guarded([&] {
    Session s;
    s.model = model_at(m);
    sessions.emplace(next_handle, std::move(s));
    return next_handle++;
  }, 0);
}

EMSCRIPTEN_KEEPALIVE int sw_session_free(int s) {
  return guarded([&] {
    session_at(s);
    sessions.erase(s);
    return 0;
  }, -1);
}

// strategy: 0 greedy, 1 sample, 2 beam. Validates everything; the session keeps its old options on error.
EMSCRIPTEN_KEEPALIVE int sw_session_configure(int s, int strategy, float temperature, int top_k, float top_p, double seed,
                                              int beam_width, float length_penalty, int n_best, int max_length) {
  return guarded([&] {
    Session& session = session_at(s);
    if (strategy < 0 || strategy > 2) fail("unknown decoding strategy ", strategy, " (0 greedy, 1 sample, 2 beam)");
    if (!(seed >= 0 && seed <= 9007199254740991.0) || seed != static_cast<double>(static_cast<uint64_t>(seed)))
      fail("seed must be a whole number in [0, 2^53), got ", seed);
    DecodeOptions o;
    o.strategy = static_cast<Strategy>(strategy);
    o.sampling = {temperature, top_k, top_p, static_cast<uint64_t>(seed)};
    o.beam_width = beam_width;
    o.length_penalty = length_penalty;
    o.n_best = n_best;
    o.max_length = max_length;
    o.validate();
    session.options = o;
    session.generator.reset();
    session.beam.reset();
    return 0;
  }, -1);
}

// Tokenizes `text` and starts a run with the configured strategy; returns the number of input tokens.
EMSCRIPTEN_KEEPALIVE int sw_session_start(int s, const char* text) {
  return guarded([&] {
    Session& session = session_at(s);
    const ModelConfig& c = session.model->config();
    // A decoder-only model may start from <s> alone: with empty text it writes a sequence of its own
    // (a G2P decoder-only model invents a word, <sep>, its pronunciation). Elsewhere empty text is an error.
    const bool from_nothing = !c.has_encoder() && (text == nullptr || *text == '\0');
    session.input = from_nothing ? std::vector<int>{} : encode_input(c, text ? text : "");
    session.started = true;
    if (session.options.strategy == Strategy::Beam) {
      session.generator.reset();
      if (!session.beam) session.beam.emplace(session.model, session.options);
      session.beam->start(session.input);
    } else {
      session.beam.reset();
      if (!session.generator) session.generator.emplace(session.model, session.options);
      session.generator->set_probe(session.probe);
      session.generator->start(session.input);
    }
    return static_cast<int>(session.input.size());
  }, -1);
}

EMSCRIPTEN_KEEPALIVE const int* sw_session_input(int s) {
  return guarded([&] { return session_at(s).input.data(); }, static_cast<const int*>(nullptr));
}

// One decoder step of a greedy/sampling run: returns the chosen token id.
EMSCRIPTEN_KEEPALIVE int sw_session_step(int s) {
  return guarded([&] {
    return generator_of(session_at(s)).step();
  }, -1);
}

// Teacher forcing step by step: the token the last step chose becomes `token`, fed by the next step.
EMSCRIPTEN_KEEPALIVE int sw_session_replace_last(int s, int token) {
  return guarded([&] {
    generator_of(session_at(s)).replace_last(token);
    return 0;
  }, -1);
}

EMSCRIPTEN_KEEPALIVE int sw_session_done(int s) {
  return guarded([&] {
    Session& session = session_at(s);
    if (session.beam) return session.beam->done() ? 1 : 0;
    return session.generator && session.generator->done() ? 1 : 0;
  }, -1);
}

EMSCRIPTEN_KEEPALIVE int sw_session_position(int s) {
  return guarded([&] { return generator_of(session_at(s)).state().position; }, -1);
}

EMSCRIPTEN_KEEPALIVE const int* sw_session_output(int s) {
  return guarded([&] { return generator_of(session_at(s)).output().data(); }, static_cast<const int*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE int sw_session_output_length(int s) {
  return guarded([&] {
    const Session& session = session_at(s);
    return session.generator ? static_cast<int>(session.generator->output().size()) : 0;
  }, -1);
}

EMSCRIPTEN_KEEPALIVE const float* sw_session_probs(int s) {
  return guarded([&] { return generator_of(session_at(s)).probs().data(); }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const float* sw_session_logits(int s) {
  return guarded([&] { return generator_of(session_at(s)).logits().data(); }, static_cast<const float*>(nullptr));
}

// The last step's attention rows: [layers * heads, self stride] (first `position` valid) and
// [layers * heads, cross stride] (first `source length` valid), row-major; strides below.
EMSCRIPTEN_KEEPALIVE const float* sw_session_self_attention(int s) {
  return guarded([&] { return generator_of(session_at(s)).state().self_attention.data(); }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const float* sw_session_cross_attention(int s) {
  return guarded([&] { return generator_of(session_at(s)).state().cross_attention.data(); }, static_cast<const float*>(nullptr));
}

// The row strides of the attention rows, [self, cross], for the session's and the beams' rows alike: a
// run sizes them for itself, so self rows hold its positions (max_target_len unless max_length is set)
// and cross rows its source (1 for decoder-only models).
EMSCRIPTEN_KEEPALIVE const int* sw_session_attention_strides(int s) {
  return guarded([&] {
    Session& session = session_at(s);
    const DecoderState& state = session.beam ? beam_of(session).state(0) : generator_of(session).state();
    session.scratch = {state.capacity(), static_cast<int>(state.cross_attention.cols())};
    return session.scratch.data();
  }, static_cast<const int*>(nullptr));
}

// The encoder's self-attention of one layer and head: [S, S].
EMSCRIPTEN_KEEPALIVE const float* sw_session_encoder_attention(int s, int layer, int head) {
  return guarded([&] {
    const Session& session = session_at(s);
    return head_matrix(encoder_of(session).attention, session.model->config(), layer, head).data();
  }, static_cast<const float*>(nullptr));
}

// --- beam search ---------------------------------------------------------------------------------------

EMSCRIPTEN_KEEPALIVE int sw_beam_step(int s) {
  return guarded([&] {
    BeamSearch& beam = beam_of(session_at(s));
    beam.step();
    return static_cast<int>(beam.live().size());
  }, -1);
}

// JSON: {"live": [...], "results": [...], "finished": [...]} with {"tokens", "log_prob", "score", "finished"}
// each; "finished" lists every finished hypothesis in the order the steps finished them.
EMSCRIPTEN_KEEPALIVE const char* sw_beam_json(int s) {
  return guarded([&] {
    Session& session = session_at(s);
    const BeamSearch& beam = beam_of(session);
    auto list = [](const std::vector<Hypothesis>& hs) {
      nlohmann::json out = nlohmann::json::array();
      for (const Hypothesis& h : hs)
        out.push_back({{"tokens", h.tokens}, {"log_prob", h.log_prob}, {"score", h.score}, {"finished", h.finished}});
      return out;
    };
    session.text = nlohmann::json{{"live", list(beam.live())}, {"results", list(beam.results())}, {"finished", list(beam.finished())}}.dump();
    return session.text.c_str();
  }, static_cast<const char*>(nullptr));
}

// The attention rows that chose live beam i's newest token (same layout as the session's), and their length.
EMSCRIPTEN_KEEPALIVE const float* sw_beam_self_attention(int s, int i) {
  return guarded([&] { return beam_state(session_at(s), i).self_attention.data(); }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const float* sw_beam_cross_attention(int s, int i) {
  return guarded([&] { return beam_state(session_at(s), i).cross_attention.data(); }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE int sw_beam_position(int s, int i) {
  return guarded([&] { return beam_state(session_at(s), i).position; }, -1);
}

// --- teacher forcing -----------------------------------------------------------------------------------

// The full parallel pass over <s> + `target_text` for the session's current input; returns T.
EMSCRIPTEN_KEEPALIVE int sw_forward(int s, const char* target_text, int causal, int probe) {
  return guarded([&] {
    Session& session = session_at(s);
    const ModelConfig& c = session.model->config();
    if (!session.started) fail("teacher forcing needs an input: start a run first");
    std::vector<int> target = {c.bos};
    for (int id : encode_target(c, target_text ? target_text : "")) target.push_back(id);
    const std::vector<int> source = c.has_encoder() ? session.input : std::vector<int>{};
    if (!c.has_encoder()) target.insert(target.begin() + 1, session.input.begin(), session.input.end());
    session.forward = stepwise::forward(*session.model, source, target, causal != 0, probe != 0);
    session.forward_target = target;
    // the training loss: each position predicts the next token, the last one </s>
    std::vector<int> gold = target;
    gold.push_back(c.eos);
    const SequenceLoss loss = sequence_loss(session.forward.logits, gold, kTrainingLabelSmoothing);
    session.loss = {loss.cross_entropy, loss.smoothed};
    session.loss.insert(session.loss.end(), loss.nll.begin(), loss.nll.end());
    return static_cast<int>(target.size());
  }, -1);
}

// --- the probe ---------------------------------------------------------------------------------------

// Whether runs started from now on record a StepProbe each step (greedy and sampling runs).
EMSCRIPTEN_KEEPALIVE int sw_session_set_probe(int s, int on) {
  return guarded([&] {
    Session& session = session_at(s);
    if (on && session.options.strategy == Strategy::Beam)
      fail("the probe records greedy and sampling runs (one hypothesis per step), not beam search");
    session.probe = on != 0;
    return 0;
  }, -1);
}

// A named probe value: `pass` 0 the last step, 1 the last teacher-forced pass. Returns its data and
// leaves [rows, cols, row stride] in sw_probe_shape().
EMSCRIPTEN_KEEPALIVE const float* sw_probe(int s, int pass, const char* name, int layer, int head) {
  return guarded([&] {
    Session& session = session_at(s);
    const std::string n = name ? name : "";
    const View v = pass == 0 ? step_view(generator_of(session), n, layer, head) : forward_view(session, n, layer, head);
    session.scratch.assign({v.rows, v.cols, v.stride});
    return v.data;
  }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const int* sw_probe_shape(int s) {
  return guarded([&] { return session_at(s).scratch.data(); }, static_cast<const int*>(nullptr));
}

// The position and token the last step's probe recorded.
EMSCRIPTEN_KEEPALIVE int sw_probe_position(int s) {
  return guarded([&] {
    const StepProbe* p = generator_of(session_at(s)).probe();
    if (!p) fail("no probe: start the run with { probe: true }");
    return p->position;
  }, -2);
}

// [cross-entropy, cross-entropy with label smoothing 0.1, -log p of each next token (T values)]
EMSCRIPTEN_KEEPALIVE const double* sw_forward_loss(int s) {
  return guarded([&] { return session_at(s).loss.data(); }, static_cast<const double*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const int* sw_forward_target(int s) {
  return guarded([&] { return session_at(s).forward_target.data(); }, static_cast<const int*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const float* sw_forward_logits(int s) {
  return guarded([&] { return session_at(s).forward.logits.data(); }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const float* sw_forward_self_attention(int s, int layer, int head) {
  return guarded([&] {
    const Session& session = session_at(s);
    return head_matrix(session.forward.self_attention, session.model->config(), layer, head).data();
  }, static_cast<const float*>(nullptr));
}

EMSCRIPTEN_KEEPALIVE const float* sw_forward_cross_attention(int s, int layer, int head) {
  return guarded([&] {
    const Session& session = session_at(s);
    return head_matrix(session.forward.cross_attention, session.model->config(), layer, head).data();
  }, static_cast<const float*>(nullptr));
}

}  // extern "C"
