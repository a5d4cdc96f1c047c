# The WebAssembly module (configure with emcmake; see tools/build_wasm.sh): the same engine plus the thin
# binding in src/wasm/. One file, stepwise-wasm.js, with the .wasm embedded (-sSINGLE_FILE), so the page
# works from file:// and any static host; it runs in browsers and in Node (for the tests).
target_sources(stepwise_engine PRIVATE src/engine/kernels_simd.cpp)
set(STEPWISE_WASM_FLAGS -msimd128 -fwasm-exceptions)
target_compile_options(stepwise_engine PRIVATE ${STEPWISE_WASM_FLAGS})

add_executable(stepwise_wasm src/wasm/binding.cpp)
set_target_properties(stepwise_wasm PROPERTIES OUTPUT_NAME stepwise-wasm SUFFIX .js)
target_link_libraries(stepwise_wasm PRIVATE stepwise_engine nlohmann_json::nlohmann_json)
target_compile_options(stepwise_wasm PRIVATE ${STEPWISE_WASM_FLAGS} ${STEPWISE_WARNINGS})
# What every JavaScript module built here shares (the page's and the benchmark's): a factory function
# for browsers and Node, the .wasm inside, a growable heap, no file system, malloc/free and strings.
set(STEPWISE_JS_MODULE_FLAGS
  ${STEPWISE_WASM_FLAGS}
  -sMODULARIZE=1
  -sENVIRONMENT=web,node
  -sSINGLE_FILE=1
  -sALLOW_MEMORY_GROWTH=1
  -sFILESYSTEM=0
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8)
target_link_options(stepwise_wasm PRIVATE
  ${STEPWISE_JS_MODULE_FLAGS}
  -sEXPORT_NAME=createStepwiseModule
  -sDYNAMIC_EXECUTION=0)          # no eval / new Function: the page runs under a strict CSP

# Node reads the generated UMD/CommonJS file as CommonJS despite the repository's "type": "module".
file(WRITE ${CMAKE_BINARY_DIR}/package.json "{ \"type\": \"commonjs\" }\n")

# --- Kernel tests and benchmarks (tests/wasm/kernels.test.mjs, tools/bench/README.md) -----------------

# kernels::simd against kernels::eigen, the reference, on the same inputs: `node build-wasm/stepwise-kernel-tests.js`
# (exit status 0 when every case is within tolerance; tests/wasm/kernels.test.mjs runs it under node --test).
add_executable(stepwise_kernel_tests tests/wasm/kernels_test.cpp)
set_target_properties(stepwise_kernel_tests PROPERTIES OUTPUT_NAME stepwise-kernel-tests SUFFIX .js)
target_link_libraries(stepwise_kernel_tests PRIVATE stepwise_engine)
target_compile_options(stepwise_kernel_tests PRIVATE ${STEPWISE_WASM_FLAGS} ${STEPWISE_WARNINGS})
target_link_options(stepwise_kernel_tests PRIVATE ${STEPWISE_WASM_FLAGS} -sENVIRONMENT=node -sSINGLE_FILE=1
                    -sEXIT_RUNTIME=1 -sALLOW_MEMORY_GROWTH=1)

# The engine benchmark (tools/bench/engine_bench.cpp, the same code as the native stepwise_bench) as a module
# for Node and Chromium, twice: with the SIMD kernels, as shipped (stepwise-bench.js), and as the plain
# Eigen-in-WebAssembly build (stepwise-bench-eigen.js): the same flags, -O3 -msimd128, with the
# hand-written kernels compiled out (-U__wasm_simd128__ makes kernels.h choose kernels::eigen), so that
# LLVM's own auto-vectorization of Eigen is what remains.
get_target_property(STEPWISE_ENGINE_SOURCES stepwise_engine SOURCES)
add_library(stepwise_engine_eigen STATIC ${STEPWISE_ENGINE_SOURCES})
target_include_directories(stepwise_engine_eigen PUBLIC src/engine)
target_link_libraries(stepwise_engine_eigen PUBLIC Eigen3::Eigen PRIVATE nlohmann_json::nlohmann_json)
target_compile_options(stepwise_engine_eigen PRIVATE ${STEPWISE_WASM_FLAGS} -U__wasm_simd128__)

set(STEPWISE_BENCH_SOURCES tools/bench/main_wasm.cpp tools/bench/engine_bench.cpp tools/bench/matvec_bench.cpp)
foreach(variant IN ITEMS simd eigen)
  if(variant STREQUAL "simd")
    set(target stepwise_bench_wasm)
    set(engine stepwise_engine)
    set(output stepwise-bench)
    set(extra_flags "")
  else()
    set(target stepwise_bench_wasm_eigen)
    set(engine stepwise_engine_eigen)
    set(output stepwise-bench-eigen)
    set(extra_flags -U__wasm_simd128__)
  endif()
  add_executable(${target} ${STEPWISE_BENCH_SOURCES})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${output} SUFFIX .js)
  target_include_directories(${target} PRIVATE tools/bench)
  target_link_libraries(${target} PRIVATE ${engine} nlohmann_json::nlohmann_json)
  target_compile_options(${target} PRIVATE ${STEPWISE_WASM_FLAGS} ${extra_flags} ${STEPWISE_WARNINGS})
  target_link_options(${target} PRIVATE
    ${STEPWISE_JS_MODULE_FLAGS}
    -sEXPORT_NAME=createStepwiseBench
    -sMAXIMUM_MEMORY=4GB)           # the base-shaped model: 176 MB of weights, plus the file while it loads
endforeach()
