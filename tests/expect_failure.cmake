# Runs CLI with ARGS (and STDIN, when given, as its standard input); passes if it exits non-zero and
# its stderr matches EXPECT.
if(DEFINED STDIN)
  set(input INPUT_FILE ${STDIN})
endif()
execute_process(COMMAND ${CLI} ${ARGS} ${input} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a non-zero exit, got 0; stdout: ${out}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr does not match '${EXPECT}':\n${err}")
endif()
string(REGEX MATCHALL "\n" lines "${err}")
message(STATUS "exit ${rc}: ${err}")
