#include "transformer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "error.h"
#include "kernels.h"

namespace stepwise {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------------------------------
// Row operations shared by both forms

// sum_i f(x[i]) in double, as four interleaved partial sums: four independent chains of additions, where
// one chain would wait on each addition's latency (layer_norm's moments were ~6 % of a G2P conversion).
template <typename F>
double sum_in_double(const float* x, int n, F f) {
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  int i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) part[k] += f(static_cast<double>(x[i + k]));
  for (; i < n; ++i) part[0] += f(static_cast<double>(x[i]));
  return (part[0] + part[1]) + (part[2] + part[3]);
}

// [box: layer-norm]
// nn.LayerNorm over one row of d values: (x - mean) / sqrt(var + eps) * gamma + beta (biased variance).
// The moments are accumulated in double, so they are at least as exact as PyTorch's; sum_in_double(x, d, f)
// is the sum of f(x[i]) over the row.
void layer_norm(const float* x, const LayerNorm& norm, int d, float eps, float* y) {
  const double mean = sum_in_double(x, d, [](double v) { return v; }) / d;
  const double var = sum_in_double(x, d, [mean](double v) { return (v - mean) * (v - mean); }) / d;
  const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float m = static_cast<float>(mean);
  for (int i = 0; i < d; ++i) y[i] = (x[i] - m) * rstd * norm.gamma[i] + norm.beta[i];
}
// [/box]

// [box: activation]
// F.relu, or F.gelu (exact: 0.5 x (1 + erf(x / sqrt 2))), in place.
void activate(float* x, int n, Activation activation) {
  if (activation == Activation::Relu) {
    for (int i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
  } else {
    constexpr float inv_sqrt2 = 0.70710678118654752440f;  // 1 / sqrt(2)
    for (int i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * inv_sqrt2));
  }
}
// [/box]

// [box: softmax]
// Softmax in place; -inf entries (masked) become exactly 0.
void softmax(float* x, int n) {
  float max = kNegInf;
  for (int i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int i = 0; i < n; ++i) x[i] /= sum;
}
// [/box]

// q / sqrt(head_dim), as F.multi_head_attention_forward scales queries before the dot products.
float query_scale(const ModelConfig& c) { return static_cast<float>(std::sqrt(static_cast<double>(c.head_dim()))); }

// [box: embed]
// Token embedding times sqrt(d_model) (if configured) plus the positional encoding of `position`; a probe
// also gets the two terms (`token_part`, `position_part`, when not null).
void embed(const ModelConfig& c, const float* table, const float* positions, int token, int position, float* x,
           float* token_part = nullptr, float* position_part = nullptr) {
  const float scale = c.scale_embedding ? static_cast<float>(std::sqrt(static_cast<double>(c.d_model))) : 1.0f;
  const float* e = table + static_cast<size_t>(token) * c.d_model;
  const float* p = positions + static_cast<size_t>(position) * c.d_model;
  for (int i = 0; i < c.d_model; ++i) x[i] = e[i] * scale + p[i];
  if (token_part)
    for (int i = 0; i < c.d_model; ++i) token_part[i] = e[i] * scale;
  if (position_part) std::copy(p, p + c.d_model, position_part);
}
// [/box]

// The norm applied around a decoder layer's feed-forward: norm3 after cross-attention, or norm2 in a
// decoder-only layer (nn.TransformerEncoderLayer), which has no cross-attention.
const LayerNorm& ff_norm(const DecoderLayerWeights& layer, bool has_cross) { return has_cross ? layer.norm3 : layer.norm2; }

// Where decoder layer l's weights live in the model file, for messages.
std::string decoder_layer_name(const ModelConfig& c, int l) {
  return concat(c.has_encoder() ? "transformer.decoder.layers." : "decoder.layers.", l);
}

// Inf or NaN must not flow on into the next layer and out as garbage logits. The loader bounds every
// weight, so this takes float32 overflow in an extreme model, or a cache the caller wrote into.
constexpr const char* kNotFinite = " not finite (inf or NaN): float32 overflowed";

// ---------------------------------------------------------------------------------------------------
// Memory

constexpr int64_t kFloat = sizeof(float);

// "1.94 GiB", "36.0 MiB", "21.3 KiB", "512 bytes"; whole GiB without decimals ("1 GiB").
std::string bytes_text(int64_t bytes) {
  constexpr int64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  const double b = static_cast<double>(bytes);
  char text[48];
  if (bytes >= kGiB && bytes % kGiB == 0)
    std::snprintf(text, sizeof text, "%lld GiB", static_cast<long long>(bytes / kGiB));
  else if (bytes >= kGiB)
    std::snprintf(text, sizeof text, "%.2f GiB", b / static_cast<double>(kGiB));
  else if (bytes >= kMiB)
    std::snprintf(text, sizeof text, "%.1f MiB", b / static_cast<double>(kMiB));
  else if (bytes >= kKiB)
    std::snprintf(text, sizeof text, "%.1f KiB", b / static_cast<double>(kKiB));
  else
    std::snprintf(text, sizeof text, "%lld bytes", static_cast<long long>(bytes));
  return text;
}

// The part of encode()'s output that grows with the square of the input, in words.
std::string encoder_attention_text(const ModelConfig& c, int source_length) {
  return concat(c.n_encoder_layers, " layers x ", c.n_heads, " heads x ", source_length, " x ", source_length,
                " attention weights");
}

// The teacher-forced pass holds the encoder output, every decoder layer's and head's [T, T] self- and
// [T, S] cross-attention matrix (kept for the page), the mask, the logits and one layer's activations.
int64_t forward_bytes(const ModelConfig& c, int source_length, int target_length) {
  const int64_t t = target_length, rows = int64_t{c.n_decoder_layers} * c.n_heads;
  return encoder_bytes(c, source_length) +
         kFloat * (rows * t * (t + source_length) + t * t + t * c.target_vocab.size() + t * (c.d_ff + 8 * int64_t{c.d_model}));
}

// ---------------------------------------------------------------------------------------------------
// Whole sequences (the encoder and the teacher-forced decoder)

void layer_norm_rows(const RowMatrix& x, const LayerNorm& norm, float eps, RowMatrix* y) {
  y->resize(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) layer_norm(x.row(r).data(), norm, static_cast<int>(x.cols()), eps, y->row(r).data());
}

RowMatrix linear(const RowMatrix& x, const kernels::Matrix& weight, const float* bias, int out) {
  RowMatrix y(x.rows(), out);
  kernels::linear_rows(x.data(), static_cast<int>(x.rows()), weight, bias, y.data(), out, static_cast<int>(x.cols()));
  return y;
}

// nn.MultiheadAttention(queries_in, keys_in, keys_in, attn_mask) with per-head weights:
//   q, k, v = in_proj(...); per head: softmax(q_h / sqrt(d_h) k_h^T + mask) v_h; out_proj(concat).
RowMatrix attention(const ModelConfig& c, const AttentionWeights& w, const RowMatrix& queries_in,
                    const RowMatrix& keys_in, const RowMatrix* mask, std::vector<RowMatrix>* weights_out,
                    SequenceAttentionProbe* probe = nullptr) {
  const int d = c.d_model, dh = c.head_dim();
  const kernels::Matrix& W = w.in_proj.weight;
  const float* b = w.in_proj.bias;
  RowMatrix q = linear(queries_in, W, b, d);
  if (probe) probe->query = q;
  q /= query_scale(c);
  RowMatrix k = linear(keys_in, W.rows_from(d, d), b + d, d);
  RowMatrix v = linear(keys_in, W.rows_from(2 * d, d), b + 2 * d, d);
  RowMatrix context(queries_in.rows(), d);
  if (probe) {
    probe->key = k;
    probe->value = v;
    probe->mask = mask ? *mask : RowMatrix::Zero(queries_in.rows(), keys_in.rows());
  }
  for (int h = 0; h < c.n_heads; ++h) {
    RowMatrix scores = q.middleCols(h * dh, dh) * k.middleCols(h * dh, dh).transpose();  // [n, m]
    if (probe) {
      probe->raw.push_back(probe->query.middleCols(h * dh, dh) * k.middleCols(h * dh, dh).transpose());
      probe->scaled.push_back(scores);
    }
    if (mask) scores += *mask;
    for (Eigen::Index r = 0; r < scores.rows(); ++r) softmax(scores.row(r).data(), static_cast<int>(scores.cols()));
    context.middleCols(h * dh, dh).noalias() = scores * v.middleCols(h * dh, dh);
    if (probe) probe->weights.push_back(scores);
    weights_out->push_back(std::move(scores));
  }
  if (probe) probe->context = context;
  return linear(context, w.out_proj.weight, w.out_proj.bias, d);
}

RowMatrix feed_forward(const ModelConfig& c, const FeedForward& f, const RowMatrix& x, RowMatrix* hidden_probe = nullptr) {
  RowMatrix hidden = linear(x, f.linear1.weight, f.linear1.bias, c.d_ff);
  activate(hidden.data(), static_cast<int>(hidden.size()), c.activation);
  if (hidden_probe) *hidden_probe = hidden;
  return linear(hidden, f.linear2.weight, f.linear2.bias, c.d_model);
}

// A residual sub-layer in either arrangement:
//   post-norm (norm_first=False): x = norm(x + sublayer(x))
//   pre-norm  (norm_first=True):  x = x + sublayer(norm(x))
template <typename Sublayer>
void residual(const ModelConfig& c, const LayerNorm& norm, RowMatrix* x, Sublayer&& sublayer,
              SequenceSublayerProbe* probe = nullptr) {
  if (c.norm_first) {
    RowMatrix normed;
    layer_norm_rows(*x, norm, c.layer_norm_eps, &normed);
    RowMatrix out = sublayer(normed);
    *x += out;
    if (probe) probe->normed = std::move(normed), probe->output = std::move(out), probe->sum = *x;
  } else {
    RowMatrix out = sublayer(*x);
    RowMatrix sum = *x + out;
    layer_norm_rows(sum, norm, c.layer_norm_eps, x);
    if (probe) probe->normed = *x, probe->output = std::move(out), probe->sum = std::move(sum);
  }
}

RowMatrix embed_sequence(const ModelConfig& c, const float* table, const float* positions, const std::vector<int>& tokens) {
  RowMatrix x(static_cast<Eigen::Index>(tokens.size()), c.d_model);
  for (size_t i = 0; i < tokens.size(); ++i) embed(c, table, positions, tokens[i], static_cast<int>(i), x.row(i).data());
  return x;
}

void check_tokens(const std::vector<int>& tokens, int vocab, int max_len, const char* what, const char* limit_name) {
  if (tokens.empty()) fail("the ", what, " sequence is empty");
  if (static_cast<int>(tokens.size()) > max_len)
    fail("the ", what, " sequence has ", tokens.size(), " tokens; the model's ", limit_name, " is ", max_len);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      fail(what, " token ", tokens[i], " at position ", i, " is outside the ", what, " vocabulary [0, ", vocab, ")");
}

// The decoder stack over a whole target sequence. memory is null for decoder-only models.
RowMatrix decoder_sequence(const Model& model, const RowMatrix* memory, const std::vector<int>& target, bool causal,
                           ForwardResult* out) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  RowMatrix x = embed_sequence(c, w.tgt_embed, w.tgt_pos, target);
  ForwardProbe* probe = out->probe.get();
  if (probe) {
    const int T = static_cast<int>(target.size());
    probe->token_embedding.resize(T, c.d_model);
    probe->positional.resize(T, c.d_model);
    RowMatrix again(T, c.d_model);  // embed() once more, for its two terms
    for (int i = 0; i < T; ++i)
      embed(c, w.tgt_embed, w.tgt_pos, target[i], i, again.row(i).data(), probe->token_embedding.row(i).data(),
            probe->positional.row(i).data());
    probe->layers.resize(c.n_decoder_layers);
  }
  const RowMatrix mask = causal_mask(static_cast<int>(target.size()));
  for (int l = 0; l < c.n_decoder_layers; ++l) {
    const DecoderLayerWeights& layer = w.decoder[l];
    SequenceLayerProbe* p = probe ? &probe->layers[l] : nullptr;
    if (p) p->input = x;
    // 1. masked multi-head self-attention, add & norm
    residual(
        c, layer.norm1, &x,
        [&](const RowMatrix& in) {
          return attention(c, layer.self_attn, in, in, causal ? &mask : nullptr, &out->self_attention,
                           p ? &p->self_attention : nullptr);
        },
        p ? &p->self_block : nullptr);
    // 2. encoder-decoder (cross) attention: queries from the decoder, keys and values from the encoder
    if (memory)
      residual(
          c, layer.norm2, &x,
          [&](const RowMatrix& in) {
            return attention(c, layer.cross_attn, in, *memory, nullptr, &out->cross_attention,
                             p ? &p->cross_attention : nullptr);
          },
          p ? &p->cross_block : nullptr);
    // 3. position-wise feed-forward, add & norm
    residual(
        c, ff_norm(layer, memory != nullptr), &x,
        [&](const RowMatrix& in) { return feed_forward(c, layer.ff, in, p ? &p->hidden : nullptr); },
        p ? &p->ff_block : nullptr);
    if (!x.allFinite())
      fail("teacher-forced pass: the output of decoder layer ", l, " (", decoder_layer_name(c, l), ") is", kNotFinite);
  }
  RowMatrix normed;
  layer_norm_rows(x, w.decoder_norm, c.layer_norm_eps, &normed);
  if (probe) probe->final_normed = normed;
  RowMatrix logits = linear(normed, w.generator.weight, w.generator.bias, c.target_vocab.size());
  if (!logits.allFinite()) fail("teacher-forced pass: the logits are", kNotFinite, " in the output projection");
  return logits;
}

}  // namespace

RowMatrix causal_mask(int n) {
  RowMatrix mask = RowMatrix::Zero(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) mask(i, j) = kNegInf;
  return mask;
}

void encode(const Model& model, const std::vector<int>& source, EncoderOutput* out) {
  const ModelConfig& c = model.config();
  if (!c.has_encoder()) fail("this model is decoder-only: it has no encoder, so there is no source to encode");
  check_tokens(source, c.source_vocab.size(), c.max_source_len, "source", "max_source_len");
  const int S = static_cast<int>(source.size());
  if (const int64_t bytes = encoder_bytes(c, S); bytes > limits::kMaxRunBytes)
    fail("encoding ", S, " source tokens needs ", bytes_text(bytes), " (", encoder_attention_text(c, S), "), more than the ",
         bytes_text(limits::kMaxRunBytes), " budget; use a shorter input");
  const ModelWeights& w = model.weights();
  // Until it is complete, the output belongs to no model: decoder_step refuses a half-written one.
  out->model = nullptr;
  out->length = 0;
  out->attention.clear();
  RowMatrix x = embed_sequence(c, w.src_embed, w.src_pos, source);
  for (int l = 0; l < c.n_encoder_layers; ++l) {
    const EncoderLayerWeights& layer = w.encoder[l];
    // self-attention (bidirectional: no mask), add & norm; then feed-forward, add & norm
    residual(c, layer.norm1, &x, [&](const RowMatrix& in) { return attention(c, layer.self_attn, in, in, nullptr, &out->attention); });
    residual(c, layer.norm2, &x, [&](const RowMatrix& in) { return feed_forward(c, layer.ff, in); });
    if (!x.allFinite()) fail("encoder: the output of layer ", l, " (transformer.encoder.layers.", l, ") is", kNotFinite);
  }
  layer_norm_rows(x, w.encoder_norm, c.layer_norm_eps, &out->memory);
  // Every decoder step attends to the same keys and values: project them once.
  const int d = c.d_model;
  out->cross_keys.resize(w.decoder.size());
  out->cross_values.resize(w.decoder.size());
  for (int l = 0; l < c.n_decoder_layers; ++l) {
    const kernels::Matrix& W = w.decoder[l].cross_attn.in_proj.weight;
    const float* b = w.decoder[l].cross_attn.in_proj.bias;
    out->cross_keys[l] = linear(out->memory, W.rows_from(d, d), b + d, d);
    out->cross_values[l] = linear(out->memory, W.rows_from(2 * d, d), b + 2 * d, d);
    if (!out->cross_keys[l].allFinite() || !out->cross_values[l].allFinite())
      fail("encoder: the cross-attention keys and values of decoder layer ", l, " (", decoder_layer_name(c, l),
           ".multihead_attn) are", kNotFinite);
  }
  out->length = S;
  out->model = &model;
}

ForwardResult forward(const Model& model, const std::vector<int>& source, const std::vector<int>& target, bool causal,
                      bool probe) {
  const ModelConfig& c = model.config();
  check_tokens(target, c.target_vocab.size(), c.max_target_len, "target", "max_target_len");
  if (c.has_encoder()) check_tokens(source, c.source_vocab.size(), c.max_source_len, "source", "max_source_len");
  const int S = c.has_encoder() ? static_cast<int>(source.size()) : 0, T = static_cast<int>(target.size());
  if (const int64_t bytes = forward_bytes(c, S, T); bytes > limits::kMaxRunBytes) {
    const std::string tokens = c.has_encoder() ? concat(S, " source and ", T, " target tokens") : concat(T, " tokens");
    fail("the teacher-forced pass over ", tokens, " needs ", bytes_text(bytes), " (", c.n_decoder_layers, " layers x ",
         c.n_heads, " heads x ", T, " x ", T, " self-attention weights", c.has_encoder() ? "; the encoder's " : "",
         c.has_encoder() ? encoder_attention_text(c, S) : "", "), more than the ", bytes_text(limits::kMaxRunBytes),
         " budget; use a shorter input or target");
  }
  ForwardResult result;
  if (probe) result.probe = std::make_shared<ForwardProbe>();
  if (c.has_encoder()) {
    EncoderOutput enc;
    encode(model, source, &enc);
    result.encoder_attention = std::move(enc.attention);
    result.logits = decoder_sequence(model, &enc.memory, target, causal, &result);
  } else {
    if (!source.empty()) fail("this model is decoder-only: pass an empty source and the whole sequence as target");
    result.logits = decoder_sequence(model, nullptr, target, causal, &result);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// One position at a time, with the KV cache

DecoderState::DecoderState(const ModelConfig& c, int capacity, int source_length) { reset(c, capacity, source_length); }

DecoderState::DecoderState(const ModelConfig& c) : DecoderState(c, c.max_target_len, c.max_source_len) {}

void DecoderState::reset(const ModelConfig& c, int capacity, int source_length) {
  if (capacity < 1 || capacity > c.max_target_len)
    fail("a decoder state holds 1 to max_target_len (", c.max_target_len, ") positions, not ", capacity);
  if (source_length < 0 || source_length > c.max_source_len)
    fail("a decoder state's source length must be between 0 and max_source_len (", c.max_source_len, "), not ", source_length);
  if (const int64_t bytes = decoder_state_bytes(c, capacity, source_length); bytes > limits::kMaxRunBytes)
    fail("a decoder state of ", c.n_decoder_layers, " layers x ", capacity, " positions needs ", bytes_text(bytes),
         ", more than the ", bytes_text(limits::kMaxRunBytes), " budget; size it for fewer positions");
  const int L = c.n_decoder_layers, rows = L * c.n_heads;
  keys.resize(static_cast<size_t>(L));
  values.resize(static_cast<size_t>(L));
  for (int l = 0; l < L; ++l) {
    keys[l].setZero(capacity, c.d_model);  // (Eigen reallocates only when the size changes)
    values[l].setZero(capacity, c.d_model);
  }
  self_attention.setZero(rows, capacity);
  cross_attention.setZero(rows, std::max(1, source_length));
  position = 0;
}

void DecoderState::copy_prefix_from(const DecoderState& other) {
  position = other.position;
  for (size_t l = 0; l < keys.size(); ++l) {
    keys[l].topRows(position) = other.keys[l].topRows(position);
    values[l].topRows(position) = other.values[l].topRows(position);
  }
  self_attention = other.self_attention;
  cross_attention = other.cross_attention;
}

StepScratch::StepScratch(const ModelConfig& c)
    : x(c.d_model), normed(c.d_model), qkv(3 * c.d_model), context(c.d_model), sublayer(c.d_model),
      hidden(c.d_ff) {}

namespace {

// [box: attend]
// softmax(q_h k_j / ...) over `n` cached keys, then the weighted sum of the values, for every head.
// `q` is already scaled; `keys`/`values` are row-major [n, d_model]; per-head weights go to `rows`.
// A probe gets the scores before and after the softmax, and q_h . k_j from its unscaled `probe->query`.
void attend_cached(const ModelConfig& c, const float* q, const RowMatrix& keys, const RowMatrix& values, int n,
                   RowMatrix* rows, int row0, float* context, AttentionProbe* probe) {
  const int dh = c.head_dim();
  for (int h = 0; h < c.n_heads; ++h) {
    float* weights = rows->row(row0 + h).data();
    for (int j = 0; j < n; ++j) weights[j] = kernels::dot(q + h * dh, keys.row(j).data() + h * dh, dh);  // QDotK
    if (probe) {
      for (int j = 0; j < n; ++j) probe->raw(h, j) = kernels::dot(probe->query.data() + h * dh, keys.row(j).data() + h * dh, dh);
      std::copy(weights, weights + n, probe->scaled.row(h).data());
    }
    softmax(weights, n);
    if (probe) std::copy(weights, weights + n, probe->weights.row(h).data());
    float* out = context + h * dh;  // WeightedSumV
    std::fill(out, out + dh, 0.0f);
    for (int j = 0; j < n; ++j) kernels::axpy(weights[j], values.row(j).data() + h * dh, out, dh);
  }
  if (probe) {
    probe->keys = n;
    std::copy(context, context + c.d_model, probe->context.data());
  }
}
// [/box]

// [box: residual]
// One residual sub-layer on a single row (see residual() above for the two arrangements).
template <typename Sublayer>
void residual_row(const ModelConfig& c, const LayerNorm& norm, StepScratch* s, Sublayer&& sublayer, SublayerProbe* probe) {
  const int d = c.d_model;
  if (c.norm_first) {
    layer_norm(s->x.data(), norm, d, c.layer_norm_eps, s->normed.data());
    sublayer(s->normed.data(), s->sublayer.data());
    s->x += s->sublayer;
    if (probe) probe->normed = s->normed, probe->output = s->sublayer, probe->sum = s->x;
  } else {
    sublayer(s->x.data(), s->sublayer.data());
    s->normed = s->x + s->sublayer;
    layer_norm(s->normed.data(), norm, d, c.layer_norm_eps, s->x.data());
    if (probe) probe->normed = s->x, probe->output = s->sublayer, probe->sum = s->normed;
  }
}
// [/box]

bool has_shape(const RowMatrix& m, Eigen::Index rows, Eigen::Index cols) { return m.rows() == rows && m.cols() == cols; }

// Everything a step reads or writes must have been made for this model: another model's encoder output,
// state or scratch would send the loops of decoder_step past the ends of their buffers. A few integer
// compares per layer, against a step's thousands of multiply-adds.
void check_step_arguments(const Model& model, const EncoderOutput* encoder, const DecoderState& state, const StepScratch& s) {
  const ModelConfig& c = model.config();
  const int L = c.n_decoder_layers, rows = L * c.n_heads, d = c.d_model, pos = state.position;
  if (c.has_encoder()) {
    if (!encoder || encoder->length == 0) fail("step before encode: encode a source first");
    if (encoder->model != &model)
      fail("the encoder output was made by another model, not by '", model.origin(),
           "': encode the source with the model that decodes it");
    bool fits = static_cast<int>(encoder->cross_keys.size()) == L && static_cast<int>(encoder->cross_values.size()) == L;
    for (int l = 0; fits && l < L; ++l)
      fits = has_shape(encoder->cross_keys[l], encoder->length, d) && has_shape(encoder->cross_values[l], encoder->length, d);
    if (!fits)
      fail("the encoder output does not fit the model: it needs ", L, " decoder layers of [", encoder->length, ", ", d,
           "] cross-attention keys and values (was it changed after encode()?)");
  } else if (encoder) {
    fail("this model is decoder-only: pass no encoder output (nullptr); it has no cross-attention");
  }

  const int capacity = state.capacity();
  bool fits = static_cast<int>(state.keys.size()) == L && static_cast<int>(state.values.size()) == L &&
              state.self_attention.rows() == rows && state.cross_attention.rows() == rows;
  for (int l = 0; fits && l < L; ++l) fits = has_shape(state.keys[l], capacity, d) && has_shape(state.values[l], capacity, d);
  if (!fits)
    fail("this decoder state does not fit the model: it holds ", state.keys.size(), " layer(s) of ",
         state.keys.empty() ? 0 : state.keys[0].cols(), "-wide keys and values and ", state.self_attention.rows(),
         " attention rows; this model has ", L, " decoder layers of d_model ", d, " and ", c.n_heads, " heads (", rows,
         " attention rows)");
  if (encoder && state.cross_attention.cols() < encoder->length)
    fail("this decoder state has cross-attention rows for ", state.cross_attention.cols(), " source tokens; the encoder output has ",
         encoder->length, ": size the state for this source");
  if (s.x.size() != d || s.normed.size() != d || s.context.size() != d || s.sublayer.size() != d || s.qkv.size() != 3 * d ||
      s.hidden.size() != c.d_ff)
    fail("this step scratch was made for another model: it has room for d_model ", s.x.size(), " and d_ff ", s.hidden.size(),
         "; this model needs d_model ", d, " and d_ff ", c.d_ff);

  if (pos < 0) fail("decoder state position ", pos, " is negative");
  if (pos >= c.max_target_len) fail("cannot step past the model's max_target_len of ", c.max_target_len, " positions");
  if (pos >= capacity)
    fail("this decoder state has room for ", capacity, " positions (it was sized for its run); position ", pos, " does not fit");
}

}  // namespace

StepProbe::StepProbe(const ModelConfig& c, int capacity, int source_length)
    : token_embedding(c.d_model), positional(c.d_model), layers(static_cast<size_t>(c.n_decoder_layers)),
      final_normed(c.d_model) {
  const int d = c.d_model;
  auto attention = [&](AttentionProbe* a, int keys) {
    a->query.setZero(d), a->key.setZero(d), a->value.setZero(d), a->context.setZero(d);
    a->raw.setZero(c.n_heads, keys), a->scaled.setZero(c.n_heads, keys), a->weights.setZero(c.n_heads, keys);
  };
  for (LayerProbe& l : layers) {
    l.input.setZero(d);
    for (SublayerProbe* b : {&l.self_block, &l.cross_block, &l.ff_block})
      b->normed.setZero(d), b->output.setZero(d), b->sum.setZero(d);
    attention(&l.self_attention, std::max(1, capacity));
    attention(&l.cross_attention, std::max(1, source_length));
    l.hidden.setZero(c.d_ff);
  }
}

namespace {

// A probe must have room for this step: sized for the model, `capacity` positions and the source.
void check_probe(const ModelConfig& c, const StepProbe& p, int position, int source_length) {
  const bool fits = static_cast<int>(p.layers.size()) == c.n_decoder_layers && p.token_embedding.size() == c.d_model &&
                    (p.layers.empty() || (p.layers[0].hidden.size() == c.d_ff && p.layers[0].self_attention.raw.rows() == c.n_heads &&
                                          p.layers[0].self_attention.raw.cols() > position &&
                                          p.layers[0].cross_attention.raw.cols() >= source_length));
  if (!fits)
    fail("this step probe does not fit: it was made for another model, or for fewer positions or source tokens than "
         "position ", position, " over ", source_length, " source tokens");
}

}  // namespace

void decoder_step(const Model& model, const EncoderOutput* encoder, DecoderState* state, StepScratch* s, int token,
                  float* logits, StepProbe* probe) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const int d = c.d_model, pos = state->position;
  check_step_arguments(model, encoder, *state, *s);
  if (token < 0 || token >= c.target_vocab.size())
    fail("target token ", token, " is outside the target vocabulary [0, ", c.target_vocab.size(), ")");
  const float scale = query_scale(c);
  if (probe) {
    check_probe(c, *probe, pos, encoder ? encoder->length : 0);
    probe->position = pos, probe->token = token;
  }

  embed(c, w.tgt_embed, w.tgt_pos, token, pos, s->x.data(), probe ? probe->token_embedding.data() : nullptr,
        probe ? probe->positional.data() : nullptr);
  for (int l = 0; l < c.n_decoder_layers; ++l) {
    const DecoderLayerWeights& layer = w.decoder[l];
    LayerProbe* p = probe ? &probe->layers[l] : nullptr;
    if (p) p->input = s->x;
    // [box: self-attention]
    // 1. masked self-attention: append this position's key and value to the cache, then attend over
    //    positions 0..pos -- the future is not masked, it simply is not there yet.
    residual_row(
        c, layer.norm1, s,
        [&](const float* in, float* out) {
          kernels::matvec(layer.self_attn.in_proj.weight, layer.self_attn.in_proj.bias, in, s->qkv.data(), 3 * d, d);
          state->keys[l].row(pos) = s->qkv.segment(d, d);
          state->values[l].row(pos) = s->qkv.segment(2 * d, d);
          if (p)
            p->self_attention.query = s->qkv.head(d), p->self_attention.key = s->qkv.segment(d, d),
            p->self_attention.value = s->qkv.segment(2 * d, d);
          s->qkv.head(d) /= scale;
          attend_cached(c, s->qkv.data(), state->keys[l], state->values[l], pos + 1, &state->self_attention,
                        l * c.n_heads, s->context.data(), p ? &p->self_attention : nullptr);
          kernels::matvec(layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias, s->context.data(), out, d, d);
        },
        p ? &p->self_block : nullptr);
    // [/box]
    // [box: cross-attention]
    // 2. cross-attention: this position's query against the encoder's precomputed keys and values
    if (encoder)
      residual_row(
          c, layer.norm2, s,
          [&](const float* in, float* out) {
            kernels::matvec(layer.cross_attn.in_proj.weight, layer.cross_attn.in_proj.bias, in, s->qkv.data(), d, d);
            if (p) p->cross_attention.query = s->qkv.head(d);
            s->qkv.head(d) /= scale;
            attend_cached(c, s->qkv.data(), encoder->cross_keys[l], encoder->cross_values[l], encoder->length,
                          &state->cross_attention, l * c.n_heads, s->context.data(), p ? &p->cross_attention : nullptr);
            kernels::matvec(layer.cross_attn.out_proj.weight, layer.cross_attn.out_proj.bias, s->context.data(), out, d, d);
          },
          p ? &p->cross_block : nullptr);
    // [/box]
    // [box: feed-forward]
    // 3. feed-forward: linear2(activation(linear1(x)))
    residual_row(
        c, ff_norm(layer, encoder != nullptr), s,
        [&](const float* in, float* out) {
          kernels::matvec(layer.ff.linear1.weight, layer.ff.linear1.bias, in, s->hidden.data(), c.d_ff, d);
          activate(s->hidden.data(), c.d_ff, c.activation);
          if (p) p->hidden = s->hidden;
          kernels::matvec(layer.ff.linear2.weight, layer.ff.linear2.bias, s->hidden.data(), out, d, c.d_ff);
        },
        p ? &p->ff_block : nullptr);
    // [/box]
    if (!s->x.allFinite())
      fail("decoder step at position ", pos, ": the output of layer ", l, " (", decoder_layer_name(c, l), ") is", kNotFinite,
           ", or a cache held non-finite values");
  }
  // [box: final-norm]
  layer_norm(s->x.data(), w.decoder_norm, d, c.layer_norm_eps, s->normed.data());
  if (probe) probe->final_normed = s->normed;
  // [/box]
  // [box: output]
  kernels::matvec(w.generator.weight, w.generator.bias, s->normed.data(), logits, c.target_vocab.size(), d);
  // [/box]
  if (!Eigen::Map<const Eigen::VectorXf>(logits, c.target_vocab.size()).allFinite())
    fail("decoder step at position ", pos, ": the logits are", kNotFinite, " in the output projection");
  state->position = pos + 1;
}

SequenceLoss sequence_loss(const RowMatrix& logits, const std::vector<int>& target, double label_smoothing) {
  const Eigen::Index T = static_cast<Eigen::Index>(target.size()) - 1, V = logits.cols();
  if (T < 1 || logits.rows() < T)
    fail("sequence_loss: ", logits.rows(), " rows of logits for a target of ", target.size(), " tokens (need one per token after <s>)");
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) fail("label smoothing must be in [0, 1], got ", label_smoothing);
  SequenceLoss loss;
  loss.nll.resize(static_cast<size_t>(T));
  double smoothed = 0.0;
  for (Eigen::Index i = 0; i < T; ++i) {
    const int next = target[static_cast<size_t>(i) + 1];
    if (next < 0 || next >= V) fail("target token ", next, " at position ", i + 1, " is outside the vocabulary [0, ", V, ")");
    // log p_v = logit_v - logsumexp(logits)
    const double max = logits.row(i).maxCoeff();
    double sum = 0.0, mean_logit = 0.0;
    for (Eigen::Index v = 0; v < V; ++v) sum += std::exp(static_cast<double>(logits(i, v)) - max), mean_logit += logits(i, v);
    const double log_z = max + std::log(sum);
    const double nll = log_z - static_cast<double>(logits(i, next));
    loss.nll[static_cast<size_t>(i)] = nll;
    loss.cross_entropy += nll;
    smoothed += (1.0 - label_smoothing) * nll + label_smoothing * (log_z - mean_logit / static_cast<double>(V));
  }
  loss.cross_entropy /= static_cast<double>(T);
  loss.smoothed = smoothed / static_cast<double>(T);
  return loss;
}

// ---------------------------------------------------------------------------------------------------
// Memory

int64_t encoder_bytes(const ModelConfig& c, int source_length) {
  if (!c.has_encoder() || source_length <= 0) return 0;
  const int64_t s = source_length, d = c.d_model;
  const int64_t attention = int64_t{c.n_encoder_layers} * c.n_heads * s * s;  // kept for the page to show
  const int64_t memory = s * d * (1 + 2 * int64_t{c.n_decoder_layers});        // memory, cross keys and values
  const int64_t working = s * (c.d_ff + 8 * d);                                // one layer's activations
  return kFloat * (attention + memory + working);
}

int64_t decoder_state_bytes(const ModelConfig& c, int capacity, int source_length) {
  const int64_t layers = c.n_decoder_layers, rows = layers * c.n_heads;
  return kFloat * (layers * capacity * 2 * c.d_model + rows * capacity + rows * std::max(1, source_length));
}

void check_run_memory(const ModelConfig& c, int source_length, int capacity, int beam_width, int64_t buffers) {
  const int states = beam_width > 0 ? 2 * beam_width : 1;  // a beam reorders its states into a second set
  const int64_t encoder = encoder_bytes(c, source_length), state = decoder_state_bytes(c, capacity, source_length);
  const int64_t decoder = states * state, total = encoder + decoder + buffers;
  if (total <= limits::kMaxRunBytes) return;
  const std::string layout = concat(c.n_decoder_layers, " layers x ", capacity, capacity == 1 ? " position" : " positions",
                                    " of keys, values and attention weights");
  const std::string decoder_text =
      beam_width > 0 ? concat(states, " decoder states (2 per beam, ", beam_width, " beams) x ", bytes_text(state), " (", layout,
                              ") = ", bytes_text(decoder))
                     : concat("a decoder state of ", layout, " = ", bytes_text(decoder));
  const std::string encoder_text =
      c.has_encoder() ? concat("; the encoder output for ", source_length, " source tokens = ", bytes_text(encoder), " (",
                               encoder_attention_text(c, source_length), ")")
                      : "";
  const char* advice = encoder >= decoder ? "use a shorter input"
                       : beam_width > 0   ? "lower max_length or the beam width"
                                          : "lower max_length";
  fail("this run needs ", bytes_text(total), ", more than the ", bytes_text(limits::kMaxRunBytes), " budget: ", decoder_text,
       encoder_text, "; buffers = ", bytes_text(buffers), "; ", advice);
}

}  // namespace stepwise
