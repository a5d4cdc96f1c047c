// A loaded model: its configuration and read-only views of its weights.
//
// Loading reads a safetensors file (configuration in __metadata__["stepwise"]), binds every tensor the
// configuration implies by its PyTorch state_dict name (tools/stepwise_py/model.py), checks shapes,
// and copies the weights into two arenas, rejecting NaN/Inf on the way: F32 and F16 tensors are widened
// into a float32 one; the int8 matrices of a Q8 file stay int8 in an int8 one (their per-row scales in
// the float32 one), so that a step reads a quarter of the bytes -- except those small enough that the
// float32 kernel is faster on them (LoadOptions::dequantize_up_to: WebAssembly only), which are
// dequantized (q * scale) into the float32 arena. The embedding tables, read a row at a time rather than
// multiplied, are widened to float32 whatever the file holds (the output layer of a tied Q8 model
// multiplies by tgt_embed's int8 form, or by that float32 table when it is dequantized). All weight views
// below point into the arenas; nothing is copied after load. Shapes are PyTorch's: a Linear's weight is [out_features,
// in_features], row-major, so y = W x.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "kernels.h"

namespace stepwise {

struct Linear {
  kernels::Matrix weight;         // [out, in]: float32, or int8 with a scale per row
  const float* bias = nullptr;    // [out]
  int out = 0, in = 0;
};

struct LayerNorm {
  const float* gamma = nullptr;  // [d_model]
  const float* beta = nullptr;   // [d_model]
};

// nn.MultiheadAttention: in_proj packs the query, key and value projections ([3 d_model, d_model]:
// rows 0..d-1 -> q, d..2d-1 -> k, 2d..3d-1 -> v); out_proj mixes the concatenated heads.
struct AttentionWeights {
  Linear in_proj;   // [3 d_model, d_model]
  Linear out_proj;  // [d_model, d_model]
};

struct FeedForward {
  Linear linear1;  // [d_ff, d_model]
  Linear linear2;  // [d_model, d_ff]
};

// nn.TransformerEncoderLayer: self-attention -> add & norm1 -> feed-forward -> add & norm2.
struct EncoderLayerWeights {
  AttentionWeights self_attn;
  FeedForward ff;
  LayerNorm norm1, norm2;
};

// nn.TransformerDecoderLayer: masked self-attention -> add & norm1 -> cross-attention (queries from the
// decoder, keys/values from the encoder output) -> add & norm2 -> feed-forward -> add & norm3.
// Decoder-only models have no cross-attention: norm2 is then the feed-forward's norm, norm3 is unused.
struct DecoderLayerWeights {
  AttentionWeights self_attn;
  AttentionWeights cross_attn;  // empty in decoder-only models
  FeedForward ff;
  LayerNorm norm1, norm2, norm3;
};

struct ModelWeights {
  const float* src_embed = nullptr;  // [source vocab, d_model]
  const float* tgt_embed = nullptr;  // [target vocab, d_model]
  const float* src_pos = nullptr;    // [max_source_len, d_model]: learned or the sinusoidal table
  const float* tgt_pos = nullptr;    // [max_target_len, d_model]
  std::vector<EncoderLayerWeights> encoder;
  LayerNorm encoder_norm;
  std::vector<DecoderLayerWeights> decoder;
  LayerNorm decoder_norm;
  Linear generator;  // [target vocab, d_model]; weight == tgt_embed when tied
};

struct TensorSpec {
  std::string name;            // the PyTorch state_dict key
  std::vector<int64_t> shape;
};
// The tensors a model file of this configuration holds, in the order PyTorch's state_dict lists them.
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

struct LoadOptions {
  // Int8 matrices of at most this many weights (rows x cols) are dequantized to float32 at load; larger
  // ones stay int8. 0 keeps every one int8. The default is the build's choice (kernels.h says why).
  long dequantize_up_to = kernels::kDequantizeUpTo;
};

class Model {
 public:
  // Reads and validates a model file. Throws stepwise::Error naming the file and what is wrong.
  static std::shared_ptr<const Model> load_file(const std::string& path, const LoadOptions& options = {});
  // The same from bytes already in memory (a browser fetch, a fuzzer input); `origin` names them in errors.
  static std::shared_ptr<const Model> load_bytes(const uint8_t* bytes, size_t size, const std::string& origin,
                                                 const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  int64_t parameter_count() const { return parameters_; }  // as PyTorch counts them (tied weights once)
  const std::string& origin() const { return origin_; }
  const std::string& config_json() const { return config_json_; }  // the configuration as stored in the file
  // Bytes the weights occupy in memory: the float32 arena and the int8 one.
  size_t weight_bytes() const { return arena_.size() * sizeof(float) + int8_arena_.size(); }

  // The positional table the model adds to embeddings (sinusoidal, or the learned one): [n, d_model].
  static std::vector<float> sinusoidal_table(int n, int d_model);

 private:
  Model() = default;
  ModelConfig config_;
  ModelWeights weights_;
  std::vector<float> arena_;       // every float32 weight, and the scales of the int8 matrices
  std::vector<int8_t> int8_arena_;  // the int8 matrices of a Q8 file
  int64_t parameters_ = 0;
  std::string origin_, config_json_;
};

}  // namespace stepwise
