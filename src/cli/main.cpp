// stepwise: the engine from the command line.
//
//   stepwise generate --model FILE [decoding options] WORD...   one line per word: WORD<TAB>output
//   stepwise trace    --model FILE [decoding options] WORD      JSON: every step's token, top
//                                                                probabilities and attention rows
//   stepwise eval     --model FILE --data SPLIT.tsv [--beam N]  G2P WER/PER over a split
//   stepwise invent   --model FILE [--count N] [--seed S] ...   a decoder-only model writes new words
//   stepwise info     --model FILE                              the model's configuration
//
// With no WORD, generate reads words from standard input, one per line. Errors go to stderr as one
// line each; the exit status is 1 if any input failed, 2 for a usage error.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../engine/stepwise.h"
#include "../engine/utf8.h"
#include "g2p_metrics.h"

using nlohmann::json;
using namespace stepwise;

namespace {

constexpr const char* kUsage = R"(usage:
  stepwise generate --model FILE [options] [WORD...]   (words from stdin when none are given)
  stepwise trace    --model FILE [options] WORD
  stepwise eval     --model FILE --data SPLIT.tsv [--beam N] [--limit N] [--json OUT] [--max-wer X]
  stepwise invent   --model FILE [--count N] [--seed S] [--temperature T] [--known A.tsv,B.tsv] [--json OUT]
  stepwise info     --model FILE

decoding options (greedy by default):
  --temperature T  --top-k K  --top-p P  --seed S   sample (T > 0, K >= 0, 0 < P <= 1)
  --beam N  [--n-best K]  [--length-penalty A]      beam search of width N
  --max-length N                                    generate at most N tokens
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;
  std::map<std::string, std::string> options;
  std::vector<std::string> words;

  bool has(const std::string& key) const { return options.count(key) > 0; }
  std::string get(const std::string& key, const std::string& fallback = "") const {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }
  long long integer(const std::string& key, long long fallback, long long lo, long long hi) const {
    if (!has(key)) return fallback;
    const std::string& s = options.at(key);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
      throw UsageError("--" + key + " expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       "], got '" + s + "'");
    return v;
  }
  float number(const std::string& key, float fallback) const {
    if (!has(key)) return fallback;
    const std::string& s = options.at(key);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') throw UsageError("--" + key + " expects a number, got '" + s + "'");
    return static_cast<float>(v);
  }
};

Args parse(int argc, char** argv) {
  static const std::vector<std::string> with_value = {"model", "temperature", "top-k", "top-p", "seed", "beam",
                                                      "n-best", "length-penalty", "max-length", "data", "limit",
                                                      "json", "max-wer", "count", "known"};
  if (argc < 2) throw UsageError("no command given");
  Args args;
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      std::string key = a.substr(2), value;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
      } else if (std::find(with_value.begin(), with_value.end(), key) != with_value.end()) {
        if (i + 1 >= argc) throw UsageError("--" + key + " needs a value");
        value = argv[++i];
      }
      if (std::find(with_value.begin(), with_value.end(), key) == with_value.end())
        throw UsageError("unknown option --" + key);
      args.options[key] = value;
    } else {
      args.words.push_back(a);
    }
  }
  if (!args.has("model")) throw UsageError("--model FILE is required");
  return args;
}

DecodeOptions decode_options(const Args& a) {
  DecodeOptions o;
  const bool sampling = a.has("temperature") || a.has("top-k") || a.has("top-p") || a.has("seed");
  if (sampling && a.has("beam")) throw UsageError("choose sampling (--temperature/--top-k/--top-p/--seed) or --beam, not both");
  if ((a.has("n-best") || a.has("length-penalty")) && !a.has("beam")) throw UsageError("--n-best and --length-penalty need --beam");
  if (sampling) o.strategy = Strategy::Sample;
  if (a.has("beam")) o.strategy = Strategy::Beam;
  o.sampling.temperature = a.number("temperature", 1.0f);
  o.sampling.top_k = static_cast<int>(a.integer("top-k", 0, -1000000000, 1000000000));
  o.sampling.top_p = a.number("top-p", 1.0f);
  o.sampling.seed = static_cast<uint64_t>(a.integer("seed", 0, 0, (1LL << 62)));
  o.beam_width = static_cast<int>(a.integer("beam", 5, -1000000, 1000000));
  o.n_best = static_cast<int>(a.integer("n-best", 1, -1000000, 1000000));
  o.length_penalty = a.number("length-penalty", 1.0f);
  o.max_length = static_cast<int>(a.integer("max-length", 0, -1000000, 1000000));
  o.validate();
  return o;
}

std::string output_text(const Model& model, const std::vector<int>& ids) { return decode_output(model.config(), ids); }

// --------------------------------------------------------------------------------------------------
int cmd_generate(const Args& a) {
  auto model = Model::load_file(a.get("model"));
  const DecodeOptions options = decode_options(a);
  std::vector<std::string> words = a.words;
  const bool from_stdin = words.empty();
  int failures = 0;
  // one decoder of the chosen kind, reused for every word (each sizes its buffers per word)
  std::optional<Generator> generator;
  std::optional<BeamSearch> beam;
  if (options.strategy == Strategy::Beam)
    beam.emplace(model, options);
  else
    generator.emplace(model, options);
  auto run = [&](const std::string& word) {
    try {
      const std::vector<int> input = encode_input(model->config(), word);
      if (beam) {
        beam->start(input);
        beam->run();
        for (const Hypothesis& h : beam->results())
          std::cout << word << '\t' << output_text(*model, h.tokens)
                    << (options.n_best > 1 ? "\t" + std::to_string(h.score) : "") << '\n';
      } else {
        generator->start(input);
        while (!generator->done()) generator->step();
        std::cout << word << '\t' << output_text(*model, generator->output()) << '\n';
      }
    } catch (const Error& e) {
      std::cout.flush();
      std::cerr << "stepwise: '" << utf8::printable(word) << "': " << e.what() << '\n';  // (user text: escaped, cut)
      ++failures;
    }
  };
  if (from_stdin) {
    int read = 0;
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) run(line), ++read;
    }
    // the end of the input, or a failure to read it (a directory, an I/O error): not the same thing
    if (std::ferror(stdin) || std::cin.bad()) throw Error(std::string("cannot read standard input: ") + std::strerror(errno));
    if (read == 0) throw Error("no words on standard input (give one word per line, or words as arguments)");
  } else {
    for (const std::string& w : words) run(w);
  }
  return failures ? 1 : 0;
}

// --------------------------------------------------------------------------------------------------
json rows(const RowMatrix& m, int rows_count, int cols) {
  json out = json::array();
  for (int r = 0; r < rows_count; ++r) out.push_back(std::vector<float>(m.row(r).data(), m.row(r).data() + cols));
  return out;
}

int cmd_trace(const Args& a) {
  if (a.words.size() != 1) throw UsageError("trace takes exactly one WORD");
  auto model = Model::load_file(a.get("model"));
  const ModelConfig& c = model->config();
  DecodeOptions options = decode_options(a);
  if (options.strategy == Strategy::Beam) throw UsageError("trace follows one sequence: use greedy or sampling, not --beam");
  const std::string& word = a.words[0];
  const std::vector<int> input = encode_input(c, word);
  Generator g(model, options);
  g.start(input);
  const Vocabulary& in_vocab = c.has_encoder() ? c.source_vocab : c.target_vocab;
  json trace = {{"model", c.name}, {"input", word}, {"strategy", options.strategy == Strategy::Sample ? "sample" : "greedy"}};
  json source = json::array();
  for (int id : input) source.push_back(in_vocab.token(id));
  trace["input_tokens"] = source;
  if (c.has_encoder()) {
    json enc = json::array();
    for (int l = 0; l < c.n_encoder_layers; ++l) {
      json heads = json::array();
      for (int h = 0; h < c.n_heads; ++h) {
        const RowMatrix& m = g.encoder().attention[l * c.n_heads + h];
        heads.push_back(rows(m, static_cast<int>(m.rows()), static_cast<int>(m.cols())));
      }
      enc.push_back(heads);
    }
    trace["encoder_attention"] = enc;
  }
  json steps = json::array();
  while (!g.done()) {
    const int fed = g.output().empty() ? c.bos : g.output().back();
    const int token = g.step();
    const DecoderState& s = g.state();
    std::vector<int> order(c.target_vocab.size());
    for (int i = 0; i < c.target_vocab.size(); ++i) order[i] = i;
    const int k = std::min(5, c.target_vocab.size());
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int x, int y) {
      return g.probs()[x] > g.probs()[y] || (g.probs()[x] == g.probs()[y] && x < y);
    });
    json top = json::array();
    for (int i = 0; i < k; ++i)
      top.push_back({{"token", c.target_vocab.token(order[i])}, {"prob", g.probs()[order[i]]}, {"logit", g.logits()[order[i]]}});
    json self = json::array(), cross = json::array();
    for (int l = 0; l < c.n_decoder_layers; ++l) {
      self.push_back(rows(s.self_attention.middleRows(l * c.n_heads, c.n_heads), c.n_heads, s.position));
      if (c.has_encoder()) cross.push_back(rows(s.cross_attention.middleRows(l * c.n_heads, c.n_heads), c.n_heads, g.encoder().length));
    }
    json step = {{"position", s.position - 1}, {"input_token", c.target_vocab.token(fed)}, {"token", c.target_vocab.token(token)},
                 {"id", token}, {"top", top}, {"self_attention", self}};
    if (c.has_encoder()) step["cross_attention"] = cross;
    steps.push_back(step);
  }
  trace["steps"] = steps;
  trace["output"] = output_text(*model, g.output());
  std::cout << trace.dump() << '\n';
  return 0;
}

// --------------------------------------------------------------------------------------------------
// A decoder-only G2P model is also a model of spellings: -log2 P(c1..cn, <sep> | <s>) summed over the
// words, and the number of symbols predicted (n + 1 each: <sep> ends the spelling). The same definition
// as the character n-gram baseline (tools/stepwise_py/char_ngram.py), so the two compare in bits per letter.
std::pair<double, long long> spelling_bits(const Model& model, const std::vector<std::string>& words) {
  const ModelConfig& c = model.config();
  double bits = 0.0;
  long long symbols = 0;
  for (const std::string& word : words) {
    std::vector<int> target = {c.bos};
    const std::vector<int> prompt = encode_input(c, word);  // letters, then <sep>
    target.insert(target.end(), prompt.begin(), prompt.end() - 1);
    const ForwardResult r = forward(model, {}, target, true);  // row i predicts prompt[i]
    for (size_t i = 0; i < prompt.size(); ++i) {
      const auto row = r.logits.row(static_cast<Eigen::Index>(i));
      const double max = row.maxCoeff();
      double sum = 0.0;
      for (Eigen::Index v = 0; v < row.size(); ++v) sum += std::exp(static_cast<double>(row(v)) - max);
      bits += (std::log(sum) + max - static_cast<double>(row(prompt[i]))) / std::log(2.0);
    }
    symbols += static_cast<long long>(prompt.size());
  }
  return {bits, symbols};
}

// Every headword of the given split files (WORD<TAB>PHONEMES lines), lowercase.
std::set<std::string> headwords(const std::string& files) {
  std::set<std::string> words;
  size_t start = 0;
  while (start <= files.size()) {
    const size_t comma = files.find(',', start);
    const std::string path = files.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw Error("cannot read '" + path + "': it is a directory");
    std::ifstream in(path);
    if (!in) throw Error("cannot open '" + path + "': " + std::strerror(errno));
    for (std::string line; std::getline(in, line);) words.insert(line.substr(0, line.find('\t')));
    if (in.bad()) throw Error("cannot read '" + path + "': " + std::strerror(errno));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (words.empty()) throw Error("--known: no words in '" + files + "'");
  return words;
}

// A decoder-only model stepped from <s> alone writes a spelling, <sep>, then a pronunciation.
int cmd_invent(const Args& a) {
  auto model = Model::load_file(a.get("model"));
  const ModelConfig& c = model->config();
  if (c.has_encoder() || c.sep < 0)
    throw Error("invent needs a decoder-only model with a separator (target_vocab.sep): it writes a word, <sep>, then its "
                "pronunciation; '" + a.get("model") + "' is " + (c.has_encoder() ? "an encoder-decoder" : "decoder-only without one"));
  DecodeOptions options = decode_options(a);
  if (options.strategy == Strategy::Beam) throw UsageError("invent samples: use --temperature/--top-k/--top-p, not --beam");
  options.strategy = Strategy::Sample;
  const long long count = a.integer("count", 10, 1, 1000000);
  const std::set<std::string> known = a.has("known") ? headwords(a.get("known")) : std::set<std::string>{};
  const uint64_t first_seed = options.sampling.seed;
  // A letter is a one-character lowercase token (what the prompt of a word is made of); the rest but
  // the specials are phonemes. A sample is well-formed when it reads letters, <sep>, phonemes, </s>.
  auto is_letter = [&](int id) {
    const std::string& t = c.target_vocab.token(id);
    return id != c.sep && id != c.bos && id != c.eos && id != c.target_pad && utf8::code_points(t, "token").size() == 1 &&
           utf8::ascii_lower(t) == t;
  };
  auto is_phoneme = [&](int id) { return id != c.sep && id != c.bos && id != c.eos && id != c.target_pad && !is_letter(id); };
  long long novel = 0, malformed = 0, not_headwords = 0;
  for (long long i = 0; i < count; ++i) {
    options.sampling.seed = first_seed + static_cast<uint64_t>(i);
    Generator g(model, options);
    g.start({});
    while (!g.done()) g.step();
    const std::vector<int>& out = g.output();
    const auto sep = std::find(out.begin(), out.end(), c.sep);
    std::string word;
    for (auto it = out.begin(); it != sep; ++it)
      if (*it != c.eos) word += c.target_vocab.token(*it);
    const std::vector<int> after(sep == out.end() ? out.end() : sep + 1, out.end());
    const bool ended = !out.empty() && out.back() == c.eos;
    const bool well_formed = sep != out.end() && sep != out.begin() && ended && after.size() >= 2 &&
                             std::all_of(out.begin(), sep, is_letter) && std::all_of(after.begin(), after.end() - 1, is_phoneme);
    malformed += !well_formed;
    novel += well_formed && known.count(word) == 0;
    not_headwords += known.count(word) == 0;
    std::cout << word << '\t' << output_text(*model, after) << (well_formed ? "" : "\t(malformed)")
              << (known.count(word) != 0 ? "\t(a headword)" : "") << '\n';
  }
  if (!known.empty())
    std::fprintf(stderr,
                 "%lld samples (seeds %llu-%llu): %lld (%.1f %%) spell no known headword (of %zu); %lld are well-formed "
                 "(letters, <sep>, phonemes, </s>), and %lld (%.1f %% of all) are well-formed new words\n",
                 count, static_cast<unsigned long long>(first_seed), static_cast<unsigned long long>(first_seed + count - 1),
                 not_headwords, 100.0 * static_cast<double>(not_headwords) / static_cast<double>(count), known.size(),
                 count - malformed, novel, 100.0 * static_cast<double>(novel) / static_cast<double>(count));
  if (a.has("json")) {
    json report = {{"model", c.name},       {"samples", count},          {"first_seed", first_seed},
                   {"temperature", options.sampling.temperature}, {"malformed", malformed}};
    if (!known.empty())
      report["known_headwords"] = known.size(), report["not_headwords"] = not_headwords, report["well_formed_new"] = novel;
    std::ofstream out(a.get("json"));
    out << report.dump(1) << '\n';
    if (!out) throw Error("cannot write '" + a.get("json") + "'");
  }
  return 0;
}

// --------------------------------------------------------------------------------------------------
int cmd_eval(const Args& a) {
  if (!a.has("data")) throw UsageError("eval needs --data SPLIT.tsv (write the splits with tools/g2p_data.py)");
  auto model = Model::load_file(a.get("model"));
  const std::string path = a.get("data");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error("cannot read data file '" + path + "': it is a directory");
  std::ifstream in(path);
  if (!in) throw Error("cannot open data file '" + path + "': " + std::strerror(errno));
  std::vector<std::string> order;
  std::map<std::string, std::vector<g2p::Phonemes>> references;
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) throw Error(path + ": a line without a tab: '" + line + "'");
    const std::string word = line.substr(0, tab);
    if (!references.count(word)) order.push_back(word);
    references[word].push_back(g2p::split_phonemes(line.substr(tab + 1)));
  }
  if (in.bad()) throw Error("cannot read data file '" + path + "': " + std::strerror(errno));
  // no words would score a perfect 0 % and pass any --max-wer
  if (order.empty()) throw Error("data file '" + path + "' has no words (expected lines WORD<TAB>PHONEMES)");
  const long long limit = a.integer("limit", 0, 0, 100000000);
  if (limit > 0 && static_cast<long long>(order.size()) > limit) order.resize(limit);
  const int beam_width = static_cast<int>(a.integer("beam", 5, 0, 64));

  json report = {{"model", model->config().name}, {"data", path}, {"words", order.size()}};
  std::printf("%s on %s: %zu words\n\n", model->origin().c_str(), path.c_str(), order.size());
  std::printf("| decoding | WER | PER | WER (no stress) | PER (no stress) | words/s |\n|---|---|---|---|---|---|\n");
  double greedy_wer_no_stress = 0.0;
  for (int width : {0, beam_width}) {
    DecodeOptions options;
    if (width > 0) {
      options.strategy = Strategy::Beam;
      options.beam_width = width;
    }
    std::optional<Generator> generator;
    std::optional<BeamSearch> beam;
    if (width > 0)
      beam.emplace(model, options);
    else
      generator.emplace(model, options);
    g2p::Score with_stress, without_stress;
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::string& word : order) {
      std::vector<int> output;
      const std::vector<int> input = encode_input(model->config(), word);
      if (beam) {
        beam->start(input);
        beam->run();
        output = beam->results().front().tokens;
      } else {
        generator->start(input);
        while (!generator->done()) generator->step();
        output = generator->output();
      }
      const g2p::Phonemes phonemes = g2p::split_phonemes(output_text(*model, output));
      with_stress.add(phonemes, references[word], true);
      without_stress.add(phonemes, references[word], false);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string name = width > 0 ? "beam " + std::to_string(width) : "greedy";
    std::printf("| %s | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %.0f |\n", name.c_str(), 100 * with_stress.wer(),
                100 * with_stress.per(), 100 * without_stress.wer(), 100 * without_stress.per(), static_cast<double>(order.size()) / seconds);
    report[width > 0 ? "beam" : "greedy"] = {{"width", std::max(width, 1)},
                                             {"wer", with_stress.wer()},
                                             {"per", with_stress.per()},
                                             {"wer_no_stress", without_stress.wer()},
                                             {"per_no_stress", without_stress.per()},
                                             {"words_per_second", static_cast<double>(order.size()) / seconds}};
    if (width == 0) greedy_wer_no_stress = without_stress.wer();
    if (beam_width == 0) break;
  }
  if (!model->config().has_encoder() && model->config().sep >= 0) {
    const auto [bits, symbols] = spelling_bits(*model, order);
    std::printf("\nspelling (the letters and <sep> after <s>, teacher-forced): %.4f bits per letter over %lld symbols\n",
                bits / static_cast<double>(symbols), symbols);
    report["spelling"] = {{"bits", bits}, {"symbols", symbols}, {"bits_per_letter", bits / static_cast<double>(symbols)}};
  }
  if (a.has("json")) {
    std::ofstream out(a.get("json"));
    out << report.dump(1) << '\n';
    if (!out) throw Error("cannot write '" + a.get("json") + "'");
  }
  if (a.has("max-wer")) {
    const float max_wer = a.number("max-wer", 1.0f);
    if (greedy_wer_no_stress > max_wer) {
      std::fprintf(stderr, "stepwise: greedy stress-stripped WER %.4f is above the allowed %.4f\n", greedy_wer_no_stress, max_wer);
      return 1;
    }
  }
  return 0;
}

// --------------------------------------------------------------------------------------------------
int cmd_info(const Args& a) {
  auto model = Model::load_file(a.get("model"));
  const ModelConfig& c = model->config();
  std::printf("%s: %s\n", model->origin().c_str(), c.name.c_str());
  std::printf("  architecture      %s, %d encoder + %d decoder layers\n", c.has_encoder() ? "encoder-decoder" : "decoder-only",
              c.n_encoder_layers, c.n_decoder_layers);
  std::printf("  d_model %d, heads %d (head dim %d), d_ff %d, %s, %s\n", c.d_model, c.n_heads, c.head_dim(), c.d_ff,
              c.activation == Activation::Relu ? "relu" : "gelu", c.norm_first ? "pre-norm" : "post-norm");
  std::printf("  positions         %s; max source %d, max target %d\n",
              c.positional == Positional::Sinusoidal ? "sinusoidal" : "learned", c.max_source_len, c.max_target_len);
  if (c.has_encoder()) std::printf("  source vocabulary %d tokens\n", c.source_vocab.size());
  std::printf("  target vocabulary %d tokens%s\n", c.target_vocab.size(), c.tie_output ? " (output tied to embedding)" : "");
  std::printf("  parameters        %lld\n", static_cast<long long>(model->parameter_count()));
  std::printf("  kernels           %s\n", kernels::name());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args = parse(argc, argv);
    if (args.command == "generate") return cmd_generate(args);
    if (args.command == "trace") return cmd_trace(args);
    if (args.command == "eval") return cmd_eval(args);
    if (args.command == "info") return cmd_info(args);
    if (args.command == "invent") return cmd_invent(args);
    throw UsageError("unknown command '" + args.command + "'");
  } catch (const UsageError& e) {
    std::cerr << "stepwise: " << e.what() << "\n\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "stepwise: " << e.what() << '\n';
    return 1;
  }
}
