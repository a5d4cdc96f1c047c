#include "model.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "error.h"
#include "safetensors.h"
#include "utf8.h"

namespace stepwise {

namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Walks the tensors a configuration implies (names, shapes, and where each view goes). The loader
// binds them to a file; expected_tensors() just lists them.
class TensorSink {
 public:
  virtual ~TensorSink() = default;
  // Tensor `name` of `shape`, to be pointed to by *slot. `why` explains the expected shape.
  virtual void tensor(const std::string& name, std::vector<int64_t> shape, const float** slot, const std::string& why) = 0;
  // A weight matrix multiplied in the hot loops: float32, or int8 with per-row scales when the file has it so.
  virtual void matrix(const std::string& name, std::vector<int64_t> shape, kernels::Matrix* slot, const std::string& why) = 0;
  // A second view of tensor `name`, already described, as a matrix (the tied output layer's tgt_embed).
  virtual void tied_matrix(const std::string& name, kernels::Matrix* slot) = 0;
  // A table computed here rather than read from the file (the sinusoidal positions).
  virtual void computed(std::vector<float> values, const float** slot) = 0;

  void linear(const std::string& prefix, Linear* l, int out, int in, const std::string& why) {
    l->out = out;
    l->in = in;
    matrix(prefix + ".weight", {out, in}, &l->weight, why);
    tensor(prefix + ".bias", {out}, &l->bias, why);
  }

  void layer_norm(const std::string& prefix, LayerNorm* n, int d) {
    tensor(prefix + ".weight", {d}, &n->gamma, "LayerNorm over d_model " + std::to_string(d));
    tensor(prefix + ".bias", {d}, &n->beta, "LayerNorm over d_model " + std::to_string(d));
  }

  void attention(const std::string& prefix, AttentionWeights* a, int d) {
    const std::string why = "d_model " + std::to_string(d);
    a->in_proj = {{}, nullptr, 3 * d, d};
    matrix(prefix + ".in_proj_weight", {3 * d, d}, &a->in_proj.weight, "query, key and value projections for " + why);
    tensor(prefix + ".in_proj_bias", {3 * d}, &a->in_proj.bias, "query, key and value biases for " + why);
    linear(prefix + ".out_proj", &a->out_proj, d, d, why);
  }

  void feed_forward(const std::string& prefix, FeedForward* f, int d, int d_ff) {
    const std::string why = "d_model " + std::to_string(d) + ", d_ff " + std::to_string(d_ff);
    linear(prefix + ".linear1", &f->linear1, d_ff, d, why);
    linear(prefix + ".linear2", &f->linear2, d, d_ff, why);
  }
};

// The model's tensors, named as StepwiseTransformer's state_dict (tools/stepwise_py/model.py).
void describe_model(const ModelConfig& c, ModelWeights* w, TensorSink* sink) {
  const int d = c.d_model;
  const std::string dm = "d_model " + std::to_string(d);
  const std::string tgt_why = "target_vocab has " + std::to_string(c.target_vocab.size()) + " tokens, " + dm;
  if (c.has_encoder())
    sink->tensor("src_embed.weight", {c.source_vocab.size(), d}, &w->src_embed,
                 "source_vocab has " + std::to_string(c.source_vocab.size()) + " tokens, " + dm);
  if (c.positional == Positional::Learned) {
    if (c.has_encoder())
      sink->tensor("src_pos.weight", {c.max_source_len, d}, &w->src_pos,
                   "max_source_len " + std::to_string(c.max_source_len) + ", " + dm);
  } else if (c.has_encoder()) {
    sink->computed(Model::sinusoidal_table(c.max_source_len, d), &w->src_pos);
  }

  if (c.has_encoder()) {
    w->encoder.resize(c.n_encoder_layers);
    for (int i = 0; i < c.n_encoder_layers; ++i) {
      const std::string p = "transformer.encoder.layers." + std::to_string(i);
      sink->attention(p + ".self_attn", &w->encoder[i].self_attn, d);
      sink->feed_forward(p, &w->encoder[i].ff, d, c.d_ff);
      sink->layer_norm(p + ".norm1", &w->encoder[i].norm1, d);
      sink->layer_norm(p + ".norm2", &w->encoder[i].norm2, d);
    }
    sink->layer_norm("transformer.encoder.norm", &w->encoder_norm, d);
  }

  // Encoder-decoder models use nn.Transformer's decoder; decoder-only ones an nn.TransformerEncoder
  // under the name "decoder" (its layers are causal self-attention + feed-forward, no cross-attention).
  const std::string stack = c.has_encoder() ? "transformer.decoder" : "decoder";
  w->decoder.resize(c.n_decoder_layers);
  for (int i = 0; i < c.n_decoder_layers; ++i) {
    const std::string p = stack + ".layers." + std::to_string(i);
    DecoderLayerWeights& layer = w->decoder[i];
    sink->attention(p + ".self_attn", &layer.self_attn, d);
    if (c.has_encoder()) sink->attention(p + ".multihead_attn", &layer.cross_attn, d);
    sink->feed_forward(p, &layer.ff, d, c.d_ff);
    sink->layer_norm(p + ".norm1", &layer.norm1, d);
    sink->layer_norm(p + ".norm2", &layer.norm2, d);
    if (c.has_encoder()) sink->layer_norm(p + ".norm3", &layer.norm3, d);
  }
  sink->layer_norm(stack + ".norm", &w->decoder_norm, d);

  sink->tensor("tgt_embed.weight", {c.target_vocab.size(), d}, &w->tgt_embed, tgt_why);
  if (c.positional == Positional::Learned)
    sink->tensor("tgt_pos.weight", {c.max_target_len, d}, &w->tgt_pos,
                 "max_target_len " + std::to_string(c.max_target_len) + ", " + dm);
  else
    sink->computed(Model::sinusoidal_table(c.max_target_len, d), &w->tgt_pos);
  w->generator = {{}, nullptr, c.target_vocab.size(), d};
  if (c.tie_output)
    sink->tied_matrix("tgt_embed.weight", &w->generator.weight);
  else
    sink->matrix("generator.weight", {c.target_vocab.size(), d}, &w->generator.weight, tgt_why);
  sink->tensor("generator.bias", {c.target_vocab.size()}, &w->generator.bias, tgt_why);
}

// Checks each tensor against the file, then fills the arenas and points the views into them.
class Binder : public TensorSink {
 public:
  Binder(const Safetensors& file, const LoadOptions& options) : file_(file), options_(options) {}

  void tensor(const std::string& name, std::vector<int64_t> shape, const float** slot, const std::string& why) override {
    const TensorInfo& info = check(name, shape, why);
    std::string scale;
    if (info.dtype == DType::I8) scale = int8_scale(name, info.shape);
    add_float(name, scale, slot, info.elements());
  }

  void matrix(const std::string& name, std::vector<int64_t> shape, kernels::Matrix* slot, const std::string& why) override {
    const TensorInfo& info = check(name, shape, why);
    if (info.dtype == DType::I8 && !dequantized(info))
      add_int8(name, int8_scale(name, info.shape), slot, info.shape);
    else  // float32, or int8 times its scales (as tensor() reads an int8 table)
      add_float(name, info.dtype == DType::I8 ? int8_scale(name, info.shape) : "", &slot->f32, info.elements());
  }

  // An int8 tgt_embed gets an int8 view too (its float32 copy is bound by tensor()); a float32 one, or an
  // int8 one small enough to be dequantized, shares that float32 copy (load_bytes, once the arena is filled).
  void tied_matrix(const std::string& name, kernels::Matrix* slot) override {
    const TensorInfo& info = file_.tensors().at(name);
    if (info.dtype == DType::I8 && !dequantized(info))
      add_int8(name, name + ".scale", slot, info.shape, /*counted=*/false);
  }

  void computed(std::vector<float> values, const float** slot) override {
    Entry e;
    e.slot = slot;
    e.offset = size_;
    e.values = std::move(values);
    size_ += e.values.size();
    entries_.push_back(std::move(e));
  }

  // Every file tensor must have been claimed; then the arenas are filled and the slots pointed into them.
  void finish(std::vector<float>* arena, std::vector<int8_t>* int8_arena, int64_t* parameters) {
    for (const auto& [name, info] : file_.tensors()) {
      if (!claimed_.count(name))
        fail(file_.origin(), ": unexpected tensor '", utf8::printable(name), "' (shape ", shape_string(info.shape),
             "): this model's configuration has no such weight");
    }
    arena->assign(size_, 0.0f);
    int8_arena->assign(int8_size_, 0);
    *parameters = 0;
    for (const Entry& e : entries_) {
      float* dst = arena->data() + e.offset;
      if (e.name.empty()) {
        std::copy(e.values.begin(), e.values.end(), dst);
      } else if (e.matrix) {
        int8_t* q = int8_arena->data() + e.int8_offset;
        file_.read_i8(e.name, q);
        file_.read_f32(e.scale, dst);
        check_int8_magnitude(e, q, dst);
        *e.matrix = kernels::Matrix{nullptr, q, dst};
      } else {
        file_.read_f32(e.name, dst);
        if (!e.scale.empty()) {  // I8 table: row r holds int8 values times scale[r]
          const std::vector<int64_t>& shape = file_.tensors().at(e.name).shape;
          std::vector<float> scale(static_cast<size_t>(shape[0]));
          file_.read_f32(e.scale, scale.data());
          for (int64_t r = 0; r < shape[0]; ++r)
            for (int64_t c = 0; c < shape[1]; ++c) dst[r * shape[1] + c] *= scale[static_cast<size_t>(r)];
        }
        check_magnitude(e, dst);
      }
      if (e.counted) *parameters += file_.tensors().at(e.name).elements();
      if (e.slot) *e.slot = dst;
    }
  }

 private:
  struct Entry {
    std::string name;                  // empty for computed tables
    std::string scale;                 // the per-row scale tensor of an I8 matrix, else empty
    const float** slot = nullptr;      // a float32 view (or a table dequantized from I8)
    kernels::Matrix* matrix = nullptr;  // an int8 matrix kept int8: its scales go to the float arena
    size_t offset = 0;                 // in the float arena: the values, or an int8 matrix's scales
    size_t int8_offset = 0;            // in the int8 arena
    bool counted = false;              // a file parameter (not a computed table, not the tied view)
    std::vector<float> values;
  };

  // An int8 matrix the float32 kernel runs faster (LoadOptions::dequantize_up_to).
  bool dequantized(const TensorInfo& info) const {
    return info.shape.size() == 2 && info.shape[0] * info.shape[1] <= options_.dequantize_up_to;
  }

  const TensorInfo& check(const std::string& name, const std::vector<int64_t>& shape, const std::string& why) {
    auto it = file_.tensors().find(name);
    if (it == file_.tensors().end())
      fail(file_.origin(), ": missing tensor '", name, "' (expected shape ", shape_string(shape), ": ", why, ")");
    if (it->second.shape != shape)
      fail(file_.origin(), ": tensor '", name, "' has shape ", shape_string(it->second.shape), ", expected ",
           shape_string(shape), " (", why, ")");
    claimed_.insert(name);
    return it->second;
  }

  void add_float(const std::string& name, const std::string& scale, const float** slot, int64_t elements) {
    Entry e;
    e.name = name, e.scale = scale, e.slot = slot, e.offset = size_, e.counted = true;
    entries_.push_back(std::move(e));
    size_ += static_cast<size_t>(elements);
  }

  void add_int8(const std::string& name, const std::string& scale, kernels::Matrix* slot, const std::vector<int64_t>& shape,
                bool counted = true) {
    Entry e;
    e.name = name, e.scale = scale, e.matrix = slot, e.offset = size_, e.int8_offset = int8_size_, e.counted = counted;
    entries_.push_back(std::move(e));
    size_ += static_cast<size_t>(shape[0]);
    int8_size_ += static_cast<size_t>(shape[0] * shape[1]);
  }

  // An I8 tensor must be a matrix with a companion "NAME.scale" of one F32/F16 scale per row.
  std::string int8_scale(const std::string& name, const std::vector<int64_t>& shape) {
    const std::string scale = name + ".scale";
    if (shape.size() != 2)
      fail(file_.origin(), ": tensor '", name, "' is stored as I8, which only matrices (with a per-row scale tensor '",
           scale, "') may be");
    auto it = file_.tensors().find(scale);
    if (it == file_.tensors().end())
      fail(file_.origin(), ": tensor '", name, "' is stored as I8 but its per-row scale tensor '", scale,
           "' (F32 or F16, shape [", shape[0], "]) is missing");
    if (it->second.dtype == DType::I8 || it->second.shape != std::vector<int64_t>{shape[0]})
      fail(file_.origin(), ": the scale tensor '", scale, "' must be F32 or F16 with shape [", shape[0],
           "] (one scale per row of '", name, "'), got ", it->second.dtype == DType::I8 ? "I8 " : "",
           shape_string(it->second.shape));
    claimed_.insert(scale);
    return scale;
  }

  // Finite is not enough: a weight of 1e30 overflows float32 in the first product it enters (and an int8
  // value times a large finite scale can be Inf). Trained weights lie far inside float16's range, so
  // anything outside it is a broken or hostile file, rejected here rather than as NaN logits later.
  void check_magnitude(const Entry& e, const float* values) const {
    const int64_t n = file_.tensors().at(e.name).elements();
    for (int64_t i = 0; i < n; ++i)
      if (!(std::fabs(values[i]) <= kMaxWeight)) reject(e, i, values[i]);  // (NaN fails the test too)
  }

  // The same for an int8 matrix, row by row: its largest |q| times its scale, as a float32 product (the
  // dequantized weight the kernels' result stands for).
  void check_int8_magnitude(const Entry& e, const int8_t* q, const float* scale) const {
    const std::vector<int64_t>& shape = file_.tensors().at(e.name).shape;
    const int64_t cols = shape[1];
    for (int64_t r = 0; r < shape[0]; ++r) {
      const int8_t* row = q + r * cols;
      // The row's extremes first, in a loop the compiler vectorizes (WebAssembly runs this once per load, in
      // baseline code, where a compare-and-branch per weight cost ~40 ms over the G2P model's 1.4 M);
      // the offending index is looked for only in a row that fails.
      int8_t high = 0, low = 0;
      for (int64_t c = 0; c < cols; ++c) {
        high = std::max(high, row[c]);
        low = std::min(low, row[c]);
      }
      const int largest_magnitude = std::max(int{high}, -int{low});
      if (std::fabs(static_cast<float>(largest_magnitude) * scale[r]) <= kMaxWeight) continue;
      int64_t largest = 0;  // the first value of that magnitude, as reported before
      while (std::abs(int{row[largest]}) != largest_magnitude) ++largest;
      reject(e, r * cols + largest, static_cast<float>(row[largest]) * scale[r]);
    }
  }

  [[noreturn]] void reject(const Entry& e, int64_t i, float value) const {
    const std::vector<int64_t>& shape = file_.tensors().at(e.name).shape;
    std::string where = "index " + std::to_string(i);
    if (shape.size() == 2) where = concat("[", i / shape[1], ", ", i % shape[1], "]");
    fail(file_.origin(), ": tensor '", e.name, "' holds ", value, " at ", where,
         e.scale.empty() ? "" : " (int8 value times its row's scale)", "; weights must lie within +-", kMaxWeight,
         " (the float16 range): larger ones overflow float32 at run time");
  }
  static constexpr float kMaxWeight = 65504.0f;

  const Safetensors& file_;
  const LoadOptions options_;
  std::vector<Entry> entries_;
  std::unordered_set<std::string> claimed_;
  size_t size_ = 0, int8_size_ = 0;
};

class Lister : public TensorSink {
 public:
  std::vector<TensorSpec> specs;
  void tensor(const std::string& name, std::vector<int64_t> shape, const float**, const std::string&) override {
    specs.push_back({name, std::move(shape)});
  }
  void matrix(const std::string& name, std::vector<int64_t> shape, kernels::Matrix*, const std::string&) override {
    specs.push_back({name, std::move(shape)});
  }
  void tied_matrix(const std::string&, kernels::Matrix*) override {}
  void computed(std::vector<float>, const float**) override {}
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("cannot read model file '", path, "': it is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open model file '", path, "': ", std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
    bytes.insert(bytes.end(), buffer, buffer + n);
    if (bytes.size() > (size_t{1} << 31)) {
      std::fclose(f);
      fail("model file '", path, "' is larger than 2 GiB");
    }
  }
  bool error = std::ferror(f);
  std::fclose(f);
  if (error) fail("cannot read model file '", path, "': read error");
  return bytes;
}

}  // namespace

std::vector<float> Model::sinusoidal_table(int n, int d_model) {
  // PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)) -- Vaswani et al. §3.5.
  // Computed in double and rounded once, exactly as tools/stepwise_py/model.py does.
  std::vector<float> table(static_cast<size_t>(n) * d_model);
  for (int i = 0; i < d_model / 2; ++i) {
    const double inv_freq = std::pow(10000.0, -static_cast<double>(2 * i) / d_model);
    for (int p = 0; p < n; ++p) {
      const double angle = p * inv_freq;
      table[static_cast<size_t>(p) * d_model + 2 * i] = static_cast<float>(std::sin(angle));
      table[static_cast<size_t>(p) * d_model + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  }
  return table;
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& config) {
  ModelWeights scratch;
  Lister lister;
  describe_model(config, &scratch, &lister);
  return lister.specs;
}

std::shared_ptr<const Model> Model::load_file(const std::string& path, const LoadOptions& options) {
  std::vector<uint8_t> bytes = read_file(path);
  return load_bytes(bytes.data(), bytes.size(), path, options);
}

std::shared_ptr<const Model> Model::load_bytes(const uint8_t* bytes, size_t size, const std::string& origin,
                                               const LoadOptions& options) {
  Safetensors file(bytes, size, origin);
  auto meta = file.metadata().find("stepwise");
  if (meta == file.metadata().end())
    fail(origin, ": no model configuration: the safetensors __metadata__ has no \"stepwise\" entry "
                 "(export models with tools/stepwise_py/export.py)");

  std::shared_ptr<Model> model(new Model());
  model->origin_ = origin;
  model->config_ = ModelConfig::from_json(meta->second, origin);
  model->config_json_ = meta->second;
  Binder bind(file, options);
  describe_model(model->config_, &model->weights_, &bind);
  bind.finish(&model->arena_, &model->int8_arena_, &model->parameters_);
  kernels::Matrix& generator = model->weights_.generator.weight;
  if (model->config_.tie_output && !generator) generator.f32 = model->weights_.tgt_embed;
  return model;
}

}  // namespace stepwise
