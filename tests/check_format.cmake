# Fails when any C++ source under lib/, agents/ or tests/ differs from clang-format's output.
file(GLOB_RECURSE sources ${ROOT}/lib/*.cpp ${ROOT}/lib/*.hpp ${ROOT}/agents/*.cpp ${ROOT}/agents/*.hpp
     ${ROOT}/tests/*.cpp ${ROOT}/tests/*.hpp ${ROOT}/bench/*.cpp ${ROOT}/bench/*.hpp)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror --style=file ${sources}
                RESULT_VARIABLE rc ERROR_VARIABLE diagnostics)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang-format: these sources need formatting:\n${diagnostics}")
endif()
list(LENGTH sources count)
message(STATUS "clang-format: ${count} sources are formatted")
