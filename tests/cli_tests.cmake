# The command-line tool, run as a user would: outputs and exit codes.
set(FIX ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set(CLI $<TARGET_FILE:stepwise>)

add_test(NAME cli.generate COMMAND ${CLI} generate --model ${FIX}/postnorm_relu_sinusoidal.safetensors abc hgfedcba)
set_tests_properties(cli.generate PROPERTIES PASS_REGULAR_EXPRESSION "^abc\t[A-G ]*\nhgfedcba\t[A-G ]*\n$")

add_test(NAME cli.generate_beam COMMAND ${CLI} generate --model ${FIX}/postnorm_relu_sinusoidal.safetensors --beam 3 --n-best 2 abc)
set_tests_properties(cli.generate_beam PROPERTIES PASS_REGULAR_EXPRESSION "^abc\t[A-G ]*\t-[0-9.]+\nabc\t[A-G ]*\t-[0-9.]+\n$")

add_test(NAME cli.generate_sample COMMAND ${CLI} generate --model ${FIX}/postnorm_relu_sinusoidal.safetensors --temperature 0.8 --top-k 3 --seed 4 abc)
set_tests_properties(cli.generate_sample PROPERTIES PASS_REGULAR_EXPRESSION "^abc\t[A-G ]*\n$")

add_test(NAME cli.trace COMMAND ${CLI} trace --model ${FIX}/prenorm_gelu_learned_tied.safetensors abc)
set_tests_properties(cli.trace PROPERTIES PASS_REGULAR_EXPRESSION "\"steps\":\\[.*\"cross_attention\":\\[\\[\\[")

add_test(NAME cli.trace_decoder_only COMMAND ${CLI} trace --model ${FIX}/decoder_only_prenorm_gelu.safetensors "A B")
set_tests_properties(cli.trace_decoder_only PROPERTIES PASS_REGULAR_EXPRESSION "\"self_attention\"")

# invent --known marks each sample that spells a known headword: the word seed 2 writes, written into the
# known list, is marked; with a list that lacks it, it is not.
set(SECOND_MODEL ${PROJECT_SOURCE_DIR}/weights/g2p-cmudict-decoder-only.safetensors)
if(EXISTS ${SECOND_MODEL})
  set(INVENT ${CLI} invent --model ${SECOND_MODEL} --count 1 --seed 2)
  set(KNOWN ${CMAKE_CURRENT_BINARY_DIR}/invent_known.tsv)
  add_test(NAME cli.invent_known COMMAND sh -c "printf '%s\\tX\\n' \"$($0 $@ | cut -f1)\" > ${KNOWN} && $0 \"$@\" --known ${KNOWN}" ${INVENT})
  set_tests_properties(cli.invent_known PROPERTIES PASS_REGULAR_EXPRESSION "[a-z'.-]+\t[A-Z0-2 ]+\t\\(a headword\\)\n")
  set(OTHER_KNOWN ${CMAKE_CURRENT_BINARY_DIR}/invent_other_known.tsv)
  file(WRITE ${OTHER_KNOWN} "qqqqqqqq\tK\n")
  add_test(NAME cli.invent_unknown COMMAND ${INVENT} --known ${OTHER_KNOWN})
  set_tests_properties(cli.invent_unknown PROPERTIES PASS_REGULAR_EXPRESSION "[a-z'.-]+\t[A-Z0-2 ]+\n"
                       FAIL_REGULAR_EXPRESSION "a headword")
endif()

# STEPWISE_MAX_ISA caps the native int8 kernels; `info` names the ones that run, and a value that is not a
# tier is reported and ignored.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_test(NAME cli.info_max_isa COMMAND ${CMAKE_COMMAND} -E env STEPWISE_MAX_ISA=sse2
           ${CLI} info --model ${FIX}/postnorm_relu_sinusoidal.safetensors)
  set_tests_properties(cli.info_max_isa PROPERTIES PASS_REGULAR_EXPRESSION "kernels +eigen \\+ q8-sse2\n")
  add_test(NAME cli.info_bad_max_isa COMMAND ${CMAKE_COMMAND} -E env STEPWISE_MAX_ISA=avx9000
           ${CLI} info --model ${FIX}/postnorm_relu_sinusoidal.safetensors)
  set_tests_properties(cli.info_bad_max_isa PROPERTIES PASS_REGULAR_EXPRESSION
                       "STEPWISE_MAX_ISA=avx9000 is not one of sse2, avx2, avx512. ignored .using avx")
endif()

# Hostile requests on hostile models (tests/make_hostile_models.cpp writes them before these tests):
# memory is sized for the request and refused past the budget.
set(DEEP ${HOSTILE}/deep.safetensors)
set(EMPTY ${CMAKE_CURRENT_BINARY_DIR}/empty.tsv)
file(WRITE ${EMPTY} "")
string(REPEAT "a" 8000 LONG_WORD)
# One token from a 64-layer, 8192-position model needs kilobytes, even with a beam of 64 (it took 440 MB
# and 5 GB before): run in 300 MB of address space -- except under AddressSanitizer, which reserves
# terabytes of it up front.
if(STEPWISE_SANITIZE)
  set(LIMITED)
else()
  set(LIMITED sh -c "ulimit -v 300000 && exec \"$0\" \"$@\"")
endif()
add_test(NAME cli.deep_one_token COMMAND ${LIMITED} ${CLI} generate --model ${DEEP} --max-length 1 abc)
add_test(NAME cli.deep_one_token_beam COMMAND ${LIMITED} ${CLI} generate --model ${DEEP} --max-length 1 --beam 64 abc)
set_tests_properties(cli.deep_one_token cli.deep_one_token_beam PROPERTIES
                     PASS_REGULAR_EXPRESSION "^abc\t[A-C]?\n$" FIXTURES_REQUIRED hostile_models)

# one clear line on stderr and a non-zero exit for every bad input
foreach(case
    "bad_word|generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;abz|'abz': input: 'z' at position 3 is not in the model's vocabulary"
    "missing_model|generate;--model;/nonexistent.safetensors;abc|cannot open model file '/nonexistent.safetensors'"
    "not_a_model|info;--model;${CMAKE_CURRENT_SOURCE_DIR}/CMakeLists.txt|header length [0-9]+ runs past the end of the file"
    "bad_temperature|generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--temperature;0;abc|temperature must be greater than 0"
    "bad_top_p|generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--top-p;1.5;abc|top_p must be in \\(0, 1\\]"
    "bad_number|generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--top-k;three;abc|--top-k expects an integer"
    "beam_and_sampling|generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--beam;2;--seed;1;abc|choose sampling"
    "unknown_option|generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--colour;abc|unknown option --colour"
    "unknown_command|frobnicate;--model;x|unknown command 'frobnicate'"
    "invent_encoder_decoder|invent;--model;${FIX}/postnorm_relu_sinusoidal.safetensors|invent needs a decoder-only model with a separator.*is an encoder-decoder"
    "invent_no_separator|invent;--model;${FIX}/decoder_only_prenorm_gelu.safetensors|invent needs a decoder-only model with a separator.*decoder-only without one"
    "eval_empty_file|eval;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--data;${EMPTY}|data file '.*empty.tsv' has no words"
    "eval_directory|eval;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--data;${FIX}|cannot read data file '.*fixtures': it is a directory"
    "eval_missing_file|eval;--model;${FIX}/postnorm_relu_sinusoidal.safetensors;--data;/nonexistent.tsv|cannot open data file '/nonexistent.tsv': No such file"
    "deep_beam|generate;--model;${DEEP};--beam;64;abc|this run needs 4.[0-9]+ GiB, more than the 1 GiB budget.*128 decoder states \\(2 per beam, 64 beams\\).*lower max_length or the beam width"
    "deep_long_word|generate;--model;${DEEP};--max-length;1;${LONG_WORD}|the encoder output for 8000 source tokens.*use a shorter input"
    "huge_weights|generate;--model;${HOSTILE}/huge_weights.safetensors;abc|holds 1e\\+30 at index 0; weights must lie within")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  string(FIND "${case}" "|" first)
  string(SUBSTRING "${case}" ${first} -1 rest)
  string(SUBSTRING "${rest}" 1 -1 rest)
  string(FIND "${rest}" "|" second)
  string(SUBSTRING "${rest}" 0 ${second} args)
  math(EXPR msg_start "${second} + 1")
  string(SUBSTRING "${rest}" ${msg_start} -1 message)
  add_test(NAME cli.rejects_${name} COMMAND ${CMAKE_COMMAND} -DCLI=${CLI} "-DARGS=${args}" "-DEXPECT=${message}"
           -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure.cmake)
endforeach()
set_tests_properties(cli.rejects_deep_beam cli.rejects_deep_long_word cli.rejects_huge_weights PROPERTIES
                     FIXTURES_REQUIRED hostile_models)

# standard input that cannot be read (a directory) or holds no words
foreach(case "stdin_directory|${FIX}|cannot read standard input" "stdin_empty|${EMPTY}|no words on standard input")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 input)
  list(GET parts 2 message)
  add_test(NAME cli.rejects_${name} COMMAND ${CMAKE_COMMAND} -DCLI=${CLI}
           "-DARGS=generate;--model;${FIX}/postnorm_relu_sinusoidal.safetensors" -DSTDIN=${input} "-DEXPECT=${message}"
           -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure.cmake)
endforeach()
