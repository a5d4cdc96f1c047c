// The loader rejects every kind of bad model file with one clear message naming the file and the
// tensor or field, and never reads out of bounds (the sanitizer build runs these too).
#include <catch2/catch.hpp>
#include <cstring>
#include <limits>

#include "fixtures.h"

using namespace stepwise;
using fixtures::json;
using fixtures::SafetensorsParts;
using Catch::Contains;

namespace {

const std::string kName = "postnorm_relu_sinusoidal";  // d_model 16, 2 heads, d_ff 32, 2+2 layers, 10 target tokens

std::vector<uint8_t> original() { return fixtures::read_bytes(fixtures::model_path(kName)); }

void load(const std::vector<uint8_t>& bytes) { Model::load_bytes(bytes.data(), bytes.size(), "broken.safetensors"); }

void load_parts(const SafetensorsParts& parts) { load(parts.join()); }

SafetensorsParts parts() { return SafetensorsParts::split(original()); }

SafetensorsParts with_config(const std::string& field, const json& value) {
  SafetensorsParts p = parts();
  json c = p.config();
  if (value.is_null()) {
    c.erase(field);
  } else {
    c[field] = value;
  }
  p.set_config(c);
  return p;
}

void write_float(SafetensorsParts* p, const std::string& tensor, float value) {
  const uint64_t begin = p->header[tensor]["data_offsets"][0];
  std::memcpy(p->data.data() + begin, &value, 4);
}

}  // namespace

TEST_CASE("a valid fixture loads, F32 and F16 alike", "[loader]") {
  CHECK_NOTHROW(load(original()));
  auto f32 = fixtures::load("postnorm_relu_sinusoidal");
  auto f16 = fixtures::load("postnorm_relu_sinusoidal_f16");
  CHECK(f16->parameter_count() == f32->parameter_count());
  CHECK(f32->parameter_count() == 11674);  // what PyTorch's parameters() counts (tools/make_fixtures.py prints it)
}

TEST_CASE("F16 halves round-trip exactly and convert like numpy", "[loader]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(float_to_half(f) == h);
  }
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0xC000) == -2.0f);
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(half_to_float(0x7BFF) == 65504.0f);
  CHECK(float_to_half(65520.0f) == 0x7C00);          // rounds to +inf
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // a tie rounds to even
}

TEST_CASE("container errors: length, header, dtype, offsets", "[loader][errors]") {
  const auto bytes = original();
  SECTION("shorter than 8 bytes") {
    CHECK_THROWS_WITH(load({1, 2, 3}), Contains("broken.safetensors: not a safetensors file: 3 bytes"));
  }
  SECTION("header length past the end of the file") {
    auto b = bytes;
    b[0] = 0xFF, b[1] = 0xFF, b[2] = 0xFF;
    CHECK_THROWS_WITH(load(b), Contains("runs past the end of the file"));
    std::vector<uint8_t> huge(16, 0);
    huge[7] = 0x80;  // 2^63
    CHECK_THROWS_WITH(load(huge), Contains("runs past the end of the file"));
  }
  SECTION("malformed JSON") {
    auto b = bytes;
    b[8] = '[';
    b[9] = '}';
    CHECK_THROWS_WITH(load(b), Contains("the safetensors header is not valid JSON"));
  }
  SECTION("header is not an object") {
    SafetensorsParts p = parts();
    p.header = json::array({1, 2});
    CHECK_THROWS_WITH(load_parts(p), Contains("must be a JSON object"));
  }
  SECTION("unknown dtype") {
    SafetensorsParts p = parts();
    p.header["generator.bias"]["dtype"] = "BF16";
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' has dtype \"BF16\"; supported: \"F32\", \"F16\", \"I8\""));
  }
  SECTION("data offsets outside the data section") {
    SafetensorsParts p = parts();
    p.header["generator.bias"]["data_offsets"] = {p.data.size(), p.data.size() + 40};
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' has data_offsets [") && Contains("outside the data section"));
  }
  SECTION("offsets that do not match the shape") {
    SafetensorsParts p = parts();
    p.header["generator.bias"]["shape"] = {11};
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' has shape [11] (11 values, 44 bytes) but data_offsets span 40 bytes"));
  }
  SECTION("overlapping tensors") {
    SafetensorsParts p = parts();
    p.header["transformer.decoder.norm.bias"]["data_offsets"] = p.header["transformer.decoder.norm.weight"]["data_offsets"];
    CHECK_THROWS_WITH(load_parts(p), Contains("overlaps tensor"));
  }
  SECTION("a hole in the data section") {
    SafetensorsParts p = parts();
    p.data.insert(p.data.begin(), 4, 0);
    for (auto& [key, entry] : p.header.items())
      if (key != "__metadata__") entry["data_offsets"] = {entry["data_offsets"][0].get<uint64_t>() + 4, entry["data_offsets"][1].get<uint64_t>() + 4};
    CHECK_THROWS_WITH(load_parts(p), Contains("bytes 0-4 of the data section belong to no tensor"));
  }
  SECTION("trailing bytes after the last tensor") {
    SafetensorsParts p = parts();
    p.data.push_back(0);
    CHECK_THROWS_WITH(load_parts(p), Contains("tensors end at byte"));
  }
  SECTION("malformed entries") {
    SafetensorsParts p = parts();
    p.header["generator.bias"]["shape"] = {-1};
    CHECK_THROWS_WITH(load_parts(p), Contains("malformed shape [-1]"));
    p = parts();
    p.header["generator.bias"]["data_offsets"] = "zero";
    CHECK_THROWS_WITH(load_parts(p), Contains("malformed data_offsets"));
    p = parts();
    p.header["generator.bias"].erase("dtype");
    CHECK_THROWS_WITH(load_parts(p), Contains("must be an object with dtype, shape and data_offsets"));
  }
  SECTION("every truncation of a valid file is rejected cleanly") {
    for (size_t n = 0; n < bytes.size(); n += (n < 2048 ? 1 : 97)) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
      REQUIRE_THROWS_AS(load(cut), Error);
    }
  }
}

TEST_CASE("tensor errors: missing, unexpected, wrong shape, NaN/Inf", "[loader][errors]") {
  SECTION("a missing tensor") {
    SafetensorsParts p = parts();
    p.remove("transformer.decoder.layers.1.linear1.weight");
    CHECK_THROWS_WITH(load_parts(p), Contains("broken.safetensors: missing tensor 'transformer.decoder.layers.1.linear1.weight' (expected shape [32,16]"));
  }
  SECTION("an unexpected tensor") {
    SafetensorsParts p = parts();
    p.add("transformer.decoder.layers.7.linear1.weight", {2, 2}, {1, 2, 3, 4});
    CHECK_THROWS_WITH(load_parts(p), Contains("unexpected tensor 'transformer.decoder.layers.7.linear1.weight' (shape [2,2])"));
  }
  SECTION("a shape that disagrees with the configuration") {
    CHECK_THROWS_WITH(load_parts(with_config("d_ff", 40)),
                      Contains("tensor 'transformer.encoder.layers.0.linear1.weight' has shape [32,16], expected [40,16] (d_model 16, d_ff 40)"));
  }
  SECTION("a vocabulary that disagrees with the embedding") {
    SafetensorsParts p = parts();
    json c = p.config();
    c["target_vocab"]["tokens"].push_back("H");
    p.set_config(c);
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'tgt_embed.weight' has shape [10,16], expected [11,16] (target_vocab has 11 tokens, d_model 16)"));
  }
  SECTION("NaN and Inf values") {
    SafetensorsParts p = parts();
    write_float(&p, "transformer.encoder.layers.1.norm2.weight", std::numeric_limits<float>::quiet_NaN());
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'transformer.encoder.layers.1.norm2.weight' holds NaN at index 0"));
    p = parts();
    write_float(&p, "generator.bias", -std::numeric_limits<float>::infinity());
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' holds Inf at index 0"));
  }
}

TEST_CASE("configuration errors name the field, expected and actual", "[loader][errors]") {
  SECTION("no configuration at all") {
    SafetensorsParts p = parts();
    p.header.erase("__metadata__");
    CHECK_THROWS_WITH(load_parts(p), Contains("no model configuration"));
  }
  SECTION("configuration that is not JSON") {
    SafetensorsParts p = parts();
    p.header["__metadata__"]["stepwise"] = "{d_model: 16";
    CHECK_THROWS_WITH(load_parts(p), Contains("the model configuration is not valid JSON"));
  }
  SECTION("d_model not divisible by the heads") {
    CHECK_THROWS_WITH(load_parts(with_config("n_heads", 3)), Contains("config field 'n_heads' must divide d_model: d_model 16 is not divisible by 3 heads"));
  }
  SECTION("zero, negative and absurd sizes") {
    CHECK_THROWS_WITH(load_parts(with_config("d_model", 0)), Contains("config field 'd_model' must be in [1, 4096], got 0"));
    CHECK_THROWS_WITH(load_parts(with_config("n_decoder_layers", -2)), Contains("config field 'n_decoder_layers' must be in [1, 64], got -2"));
    CHECK_THROWS_WITH(load_parts(with_config("d_ff", 1000000000)), Contains("config field 'd_ff' must be in [1, 65536], got 1000000000"));
    CHECK_THROWS_WITH(load_parts(with_config("max_target_len", 1)), Contains("config field 'max_target_len' must be in [2, 8192], got 1"));
    CHECK_THROWS_WITH(load_parts(with_config("layer_norm_eps", 0)), Contains("config field 'layer_norm_eps' must be in (0, 1), got 0"));
  }
  SECTION("sizes each sane but together absurd") {
    SafetensorsParts p = parts();
    json c = p.config();
    c["d_model"] = 4096, c["d_ff"] = 65536, c["n_encoder_layers"] = 64, c["n_decoder_layers"] = 64, c["n_heads"] = 8;
    p.set_config(c);
    CHECK_THROWS_WITH(load_parts(p), Contains("more than the limit"));
  }
  SECTION("missing fields and wrong types") {
    CHECK_THROWS_WITH(load_parts(with_config("d_ff", nullptr)), Contains("config field 'd_ff' is missing"));
    CHECK_THROWS_WITH(load_parts(with_config("d_ff", "32")), Contains("config field 'd_ff' must be an integer, got string \"32\""));
    CHECK_THROWS_WITH(load_parts(with_config("norm_first", 1)), Contains("config field 'norm_first' must be true or false, got 1"));
    CHECK_THROWS_WITH(load_parts(with_config("activation", "swish")), Contains("config field 'activation' must be one of \"relu\", \"gelu\", got \"swish\""));
    CHECK_THROWS_WITH(load_parts(with_config("format", "gguf")), Contains("config field 'format' must be \"stepwise-transformer\""));
  }
  SECTION("vocabulary errors") {
    SafetensorsParts p = parts();
    json c = p.config();
    c["target_vocab"]["tokens"][4] = "A";
    p.set_config(c);
    CHECK_THROWS_WITH(load_parts(p), Contains("config field 'target_vocab.tokens' lists \"A\" twice (entries 3 and 4)"));
    c = parts().config();
    c["target_vocab"]["eos"] = "<end>";
    p.set_config(c);
    CHECK_THROWS_WITH(load_parts(p), Contains("config field 'target_vocab.eos' names \"<end>\", which is not in target_vocab.tokens"));
    c = parts().config();
    c["target_vocab"]["eos"] = "<s>";
    p.set_config(c);
    CHECK_THROWS_WITH(load_parts(p), Contains("pad, bos and eos must be three different tokens"));
    c = parts().config();
    c["source_vocab"]["tokens"] = json::array();
    p.set_config(c);
    CHECK_THROWS_WITH(load_parts(p), Contains("config field 'source_vocab.tokens' must be a non-empty array"));
  }
}

TEST_CASE("file errors: missing file, directory", "[loader][errors]") {
  CHECK_THROWS_WITH(Model::load_file("/nonexistent/model.safetensors"),
                    Contains("cannot open model file '/nonexistent/model.safetensors': No such file or directory"));
  CHECK_THROWS_WITH(Model::load_file(STEPWISE_FIXTURES), Contains("it is a directory"));
}

TEST_CASE("F16-stored weights give the same greedy output as F32", "[loader]") {
  auto f32 = fixtures::load("postnorm_relu_sinusoidal");
  auto f16 = fixtures::load("postnorm_relu_sinusoidal_f16");
  for (const json& c : fixtures::golden("postnorm_relu_sinusoidal")["cases"]) {
    auto run = [&](const std::shared_ptr<const Model>& m) {
      Generator g(m, DecodeOptions{});
      g.start(c["source"].get<std::vector<int>>());
      while (!g.done()) g.step();
      return g.output();
    };
    CHECK(run(f16) == run(f32));
  }
}

// Q8 files (save_model(..., "Q8")): every matrix is I8 with an F16 scale per row in "NAME.scale". The
// matrices stay int8 in memory (LoadOptions::dequantize_up_to 0, the native default), with their scales
// widened to float32; the embedding tables are dequantized (q * scale), and the tied output layer
// multiplies by tgt_embed's int8 form.
TEST_CASE("int8 matrices stay int8 with float32 scales; embeddings are dequantized: q * scale", "[loader]") {
  const std::string name = "prenorm_gelu_learned_tied_q8";
  auto q8 = fixtures::load(name, LoadOptions{0});
  CHECK(q8->parameter_count() == fixtures::load("prenorm_gelu_learned_tied")->parameter_count());
  const SafetensorsParts p = SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path(name)));
  auto scale_of = [&](const std::string& tensor, int r) {
    const uint64_t s_at = p.header[tensor + ".scale"]["data_offsets"][0];
    return half_to_float(static_cast<uint16_t>(p.data[s_at + 2 * r] | p.data[s_at + 2 * r + 1] << 8));
  };
  auto int8_of = [&](const std::string& tensor, int at) {
    return static_cast<int8_t>(p.data[static_cast<uint64_t>(p.header[tensor]["data_offsets"][0]) + at]);
  };
  SECTION("a matrix keeps its int8 values and per-row scales") {
    const std::string tensor = "transformer.encoder.layers.0.linear1.weight";  // [24, 16]
    REQUIRE(p.header[tensor]["dtype"] == "I8");
    REQUIRE(p.header[tensor + ".scale"]["dtype"] == "F16");
    const kernels::Matrix& w = q8->weights().encoder[0].ff.linear1.weight;
    REQUIRE(w.q8 != nullptr);
    REQUIRE(w.f32 == nullptr);
    int nonzero = 0;
    for (int r = 0; r < 24; ++r) {
      REQUIRE(w.scale[r] == scale_of(tensor, r));
      for (int c = 0; c < 16; ++c) {
        REQUIRE(w.q8[16 * r + c] == int8_of(tensor, 16 * r + c));
        nonzero += w.q8[16 * r + c] != 0;
      }
    }
    CHECK(nonzero > 300);  // the test reads real values, not zeros
  }
  SECTION("the embedding table is dequantized row by row; the tied output layer uses its int8 form") {
    const std::string tensor = "tgt_embed.weight";
    REQUIRE(p.header[tensor]["dtype"] == "I8");
    const std::vector<int64_t> shape = p.header[tensor]["shape"];
    const int rows = static_cast<int>(shape[0]), cols = static_cast<int>(shape[1]);
    const float* e = q8->weights().tgt_embed;
    const kernels::Matrix& g = q8->weights().generator.weight;
    REQUIRE(g.q8 != nullptr);
    for (int r = 0; r < rows; ++r) {
      REQUIRE(g.scale[r] == scale_of(tensor, r));
      for (int c = 0; c < cols; ++c) {
        REQUIRE(e[cols * r + c] == static_cast<float>(int8_of(tensor, cols * r + c)) * scale_of(tensor, r));
        REQUIRE(g.q8[cols * r + c] == int8_of(tensor, cols * r + c));
      }
    }
  }
  SECTION("an F32 model's matrices are float32") {
    auto f32 = fixtures::load("prenorm_gelu_learned_tied");
    CHECK(f32->weights().encoder[0].ff.linear1.weight.f32 != nullptr);
    CHECK(f32->weights().encoder[0].ff.linear1.weight.q8 == nullptr);
    CHECK(f32->weights().generator.weight.f32 == f32->weights().tgt_embed);  // tied: the same table
  }
}

// LoadOptions::dequantize_up_to: an int8 matrix of at most that many weights is dequantized to float32
// (q * scale, as the int8 kernels' result stands for), larger ones stay int8; a tied output layer small
// enough shares tgt_embed's float32 table.
TEST_CASE("small int8 matrices are dequantized to q * scale at load, large ones stay int8", "[loader]") {
  const std::string name = "prenorm_gelu_learned_tied_q8";
  const SafetensorsParts p = SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path(name)));
  auto int8 = fixtures::load(name, LoadOptions{0});
  auto mixed = fixtures::load(name, LoadOptions{384});  // linear1 [24, 16] = 384 weights; in_proj [48, 16] = 768
  auto f32 = fixtures::load(name, LoadOptions{1L << 30});
  CHECK(LoadOptions{}.dequantize_up_to == 0);  // natively the int8 kernels win at every size (kernels.h)

  const kernels::Matrix& q = int8->weights().encoder[0].ff.linear1.weight;
  const kernels::Matrix& w = mixed->weights().encoder[0].ff.linear1.weight;
  REQUIRE(q.q8 != nullptr);
  REQUIRE(w.f32 != nullptr);
  REQUIRE(w.q8 == nullptr);
  for (int r = 0; r < 24; ++r)
    for (int c = 0; c < 16; ++c) REQUIRE(w.f32[16 * r + c] == static_cast<float>(q.q8[16 * r + c]) * q.scale[r]);
  CHECK(mixed->weights().encoder[0].self_attn.in_proj.weight.q8 != nullptr);  // 768 > 384: int8
  CHECK(f32->weights().encoder[0].self_attn.in_proj.weight.f32 != nullptr);
  CHECK(mixed->weights().generator.weight.f32 == mixed->weights().tgt_embed);  // [10, 16]: tied, shared
  CHECK(int8->weights().generator.weight.q8 != nullptr);

  CHECK(int8->parameter_count() == f32->parameter_count());
  CHECK(mixed->parameter_count() == f32->parameter_count());
  // Each dequantized weight takes 4 bytes for 1, less its row's scale; a dequantized tied output layer
  // adds nothing (its int8 view, 1 byte a weight and a scale a row, is gone).
  int64_t matrix_weights = 0, matrix_rows = 0;
  for (const auto& [tensor, info] : p.header.items()) {
    if (tensor == "__metadata__" || info["dtype"] != "I8" || tensor.find("embed") != std::string::npos ||
        tensor.find("_pos") != std::string::npos)
      continue;
    matrix_weights += info["shape"][0].get<int64_t>() * info["shape"][1].get<int64_t>();
    matrix_rows += info["shape"][0].get<int64_t>();
  }
  const std::vector<int64_t> tied = p.header["tgt_embed.weight"]["shape"];
  CHECK(f32->weight_bytes() == int8->weight_bytes() + 3 * matrix_weights - 4 * matrix_rows - (tied[0] * tied[1] + 4 * tied[0]));
  CHECK(int8->weight_bytes() < mixed->weight_bytes());
  CHECK(mixed->weight_bytes() < f32->weight_bytes());
}

TEST_CASE("int8 errors: missing or malformed scales, int8 vectors, stray scales", "[loader][errors]") {
  auto q8 = [] { return SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path("prenorm_gelu_learned_tied_q8"))); };
  const std::string tensor = "transformer.decoder.layers.0.linear2.weight";  // [16, 24]
  SECTION("a missing scale") {
    SafetensorsParts p = q8();
    p.remove(tensor + ".scale");
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor '" + tensor + "' is stored as I8 but its per-row scale tensor '" +
                                              tensor + ".scale' (F32 or F16, shape [16]) is missing"));
  }
  SECTION("a scale of the wrong shape or dtype") {
    SafetensorsParts p = q8();
    p.remove(tensor + ".scale");
    p.add(tensor + ".scale", {24}, std::vector<float>(24, 0.01f));
    CHECK_THROWS_WITH(load_parts(p), Contains("the scale tensor '" + tensor + ".scale' must be F32 or F16 with shape [16] (one scale per row of '" +
                                              tensor + "'), got [24]"));
    p = q8();
    p.remove(tensor + ".scale");
    p.add_raw(tensor + ".scale", "I8", {16}, std::vector<uint8_t>(16, 1));
    CHECK_THROWS_WITH(load_parts(p), Contains("got I8 [16]"));
  }
  SECTION("a NaN scale") {
    SafetensorsParts p = q8();
    p.remove(tensor + ".scale");
    std::vector<float> scales(16, 0.01f);
    scales[3] = std::numeric_limits<float>::quiet_NaN();
    p.add(tensor + ".scale", {16}, scales);
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor '" + tensor + ".scale' holds NaN at index 3"));
  }
  SECTION("an int8 vector") {
    SafetensorsParts p = q8();
    p.remove("generator.bias");
    p.add_raw("generator.bias", "I8", {10}, std::vector<uint8_t>(10, 1));
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' is stored as I8, which only matrices (with a per-row scale tensor 'generator.bias.scale') may be"));
  }
  SECTION("a scale for a tensor that is not int8") {
    SafetensorsParts p = parts();
    p.add("generator.weight.scale", {10}, std::vector<float>(10, 1.0f));
    CHECK_THROWS_WITH(load_parts(p), Contains("unexpected tensor 'generator.weight.scale' (shape [10])"));
  }
}

// ---------------------------------------------------------------------------------------------------
// Hostile files: what a fuzzer or an attacker sends, each once a crash, a silent wrong answer or an
// unbounded allocation.

namespace {

// A file with this exact header text (no re-serialisation: duplicate keys and odd nesting survive).
std::vector<uint8_t> with_header_text(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes;
  bytes.reserve(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(n >> (8 * i)));
  for (char c : header) bytes.push_back(static_cast<uint8_t>(c));
  for (uint8_t b : data) bytes.push_back(b);
  return bytes;
}

// The message of the Error `f` throws (a test fails if it throws none).
template <typename F>
std::string message_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no error was thrown");
  return "";
}

}  // namespace

TEST_CASE("deeply nested JSON is refused at a fixed depth, in the header and in the configuration", "[loader][errors][hostile]") {
  const SafetensorsParts p = parts();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  SECTION("in a tensor's dtype, shape or offsets") {
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      std::string header = p.header.dump();
      const std::string key = std::string("\"") + field + "\":";
      const size_t at = header.find(key, header.find("\"generator.bias\"")) + key.size();
      header.insert(at, deep + ",\"x\":");  // the field's first value is the deep one, then a duplicate
      CHECK_THROWS_WITH(load(with_header_text(header, p.data)),
                        Contains("broken.safetensors: the safetensors header nests arrays and objects more than 16 levels deep"));
    }
  }
  SECTION("in a configuration field") {
    std::string config = p.config().dump();
    config.insert(config.find("\"d_model\":") + 10, deep + ",\"x\":");
    SafetensorsParts q = p;
    q.header["__metadata__"]["stepwise"] = config;
    CHECK_THROWS_WITH(load_parts(q), Contains("the model configuration nests arrays and objects more than 16 levels deep"));
  }
  SECTION("a 10 MB header of '[' is refused after reading 17 of them") {
    CHECK_THROWS_WITH(load(with_header_text(std::string(10'000'000, '['), {})), Contains("more than 16 levels deep"));
  }
}

TEST_CASE("wide JSON is refused before it is all held in memory", "[loader][errors][hostile]") {
  SECTION("a vocabulary of 1.2 million tokens") {
    SafetensorsParts p = parts();
    std::string config = p.config().dump();
    std::string tokens = "[";
    for (int i = 0; i < 1'200'000; ++i) tokens += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
    tokens += "]";
    const size_t at = config.find("\"tokens\":") + 9;
    config.insert(at, tokens + ",\"x\":");
    p.header["__metadata__"]["stepwise"] = config;
    CHECK_THROWS_WITH(load_parts(p), Contains("the model configuration has an array of more than 1048577 values"));
  }
  SECTION("five million values in the header") {
    std::string values = "{\"a\":[";
    for (int i = 0; i < 5'000'000; ++i) values += i % 1000 ? ",0" : (i ? "],\"" + std::to_string(i) + "\":[0" : "0");
    values += "]}";
    CHECK_THROWS_WITH(load(with_header_text(values, {})), Contains("the safetensors header holds more than 4194304 JSON values"));
  }
}

TEST_CASE("duplicate tensor names and duplicate configuration keys are refused", "[loader][errors][hostile]") {
  const SafetensorsParts p = parts();
  SECTION("a tensor listed twice (the last one used to win silently)") {
    std::string header = p.header.dump();
    const std::string entry = "\"generator.bias\":" + p.header["generator.bias"].dump();
    header.insert(1, entry + ",");
    CHECK_THROWS_WITH(load(with_header_text(header, p.data)),
                      Contains("broken.safetensors: the safetensors header has the key \"generator.bias\" twice in one object"));
  }
  SECTION("a configuration key given twice") {
    std::string config = p.config().dump();
    config.insert(1, "\"d_model\":32,");
    SafetensorsParts q = p;
    q.header["__metadata__"]["stepwise"] = config;
    CHECK_THROWS_WITH(load_parts(q), Contains("the model configuration has the key \"d_model\" twice in one object"));
  }
}

TEST_CASE("unknown configuration keys are refused, naming the nearest known one", "[loader][errors][hostile]") {
  CHECK_THROWS_WITH(load_parts(with_config("norm_frist", true)),
                    Contains("broken.safetensors: unknown config field 'norm_frist' (did you mean 'norm_first'?)"));
  CHECK_THROWS_WITH(load_parts(with_config("colour", "blue")), Contains("unknown config field 'colour'") && !Contains("did you mean"));
  SafetensorsParts p = parts();
  json c = p.config();
  c["target_vocab"]["eso"] = "</s>";
  p.set_config(c);
  CHECK_THROWS_WITH(load_parts(p), Contains("unknown config field 'target_vocab.eso' (did you mean 'target_vocab.eos'?)"));
  // The training-only field is known (and ignored): files written by tools/stepwise_py carry it.
  CHECK_NOTHROW(load_parts(with_config("dropout", 0.1)));
}

TEST_CASE("messages escape control characters and stay short, whatever the file holds", "[loader][errors][hostile]") {
  SECTION("a tensor name with ESC and a newline") {
    SafetensorsParts p = parts();
    p.add("evil\x1b[2J\nname\xc2\x9b", {1}, {1.0f});
    const std::string message = message_of([&] { load_parts(p); });
    CHECK_THAT(message, Contains("unexpected tensor 'evil\\x1b[2J\\nname\\u009b'"));
    CHECK(message.find('\x1b') == std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  SECTION("a 5 MB tensor name") {
    SafetensorsParts p = parts();
    p.add(std::string(5'000'000, 'n'), {1}, {1.0f});
    const std::string message = message_of([&] { load_parts(p); });
    CHECK_THAT(message, Contains("… (5000000 bytes)"));
    CHECK(message.size() < 300);
  }
  SECTION("a 1 MB configuration value") {
    const std::string message = message_of([&] { load_parts(with_config("activation", std::string(1'000'000, 'x'))); });
    CHECK_THAT(message, Contains("config field 'activation' must be one of \"relu\", \"gelu\", got \"xxxx"));
    CHECK(message.size() < 300);
  }
  SECTION("a shape of a million dimensions") {
    SafetensorsParts p = parts();
    p.header["generator.bias"]["shape"] = json(std::vector<int>(1'000'000, 1));
    const std::string message = message_of([&] { load_parts(p); });
    CHECK_THAT(message, Contains("tensor 'generator.bias' has a malformed shape [1,1,1"));
    CHECK(message.size() < 300);
  }
}

TEST_CASE("weights that overflow float32 at run time are refused at load", "[loader][errors][hostile]") {
  SECTION("an int8 matrix whose finite scale times 127 is Inf") {
    auto p = SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path("prenorm_gelu_learned_tied_q8")));
    const std::string tensor = "transformer.decoder.layers.0.linear2.weight";  // [16, 24]
    p.remove(tensor + ".scale");
    std::vector<float> scales(16, 0.01f);
    scales[5] = 3e36f;
    p.add(tensor + ".scale", {16}, scales);
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor '" + tensor + "' holds ") && Contains(" at [5, ") &&
                                         Contains("(int8 value times its row's scale); weights must lie within +-65504"));
  }
  SECTION("a finite float32 weight far outside any trained model's range") {
    SafetensorsParts p = parts();
    write_float(&p, "generator.bias", 1e30f);
    CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' holds 1e+30 at index 0; weights must lie within +-65504"));
  }
  SECTION("layer_norm_eps positive as a double, 0 as a float") {
    CHECK_THROWS_WITH(load_parts(with_config("layer_norm_eps", 1e-50)),
                      Contains("config field 'layer_norm_eps' is 1e-50, which is 0 or subnormal in float32"));
  }
}

TEST_CASE("unknown fields in a tensor entry are refused", "[loader][errors][hostile]") {
  SafetensorsParts p = parts();
  p.header["generator.bias"]["dtpye"] = "F16";
  CHECK_THROWS_WITH(load_parts(p), Contains("tensor 'generator.bias' has the unknown field \"dtpye\""));
}
