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
target_link_options(stepwise_wasm PRIVATE
  ${STEPWISE_WASM_FLAGS}
  -sMODULARIZE=1
  -sEXPORT_NAME=createStepwiseModule
  -sENVIRONMENT=web,node
  -sSINGLE_FILE=1
  -sALLOW_MEMORY_GROWTH=1
  -sFILESYSTEM=0
  -sDYNAMIC_EXECUTION=0           # no eval / new Function: the page runs under a strict CSP
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8)

# Node reads the generated UMD/CommonJS file as CommonJS despite the repository's "type": "module".
file(WRITE ${CMAKE_BINARY_DIR}/package.json "{ \"type\": \"commonjs\" }\n")
