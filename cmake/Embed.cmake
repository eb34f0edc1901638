# vmha_embed_text(<out.cpp> <in-file> <namespace> <symbol>)
# Generates a C++ source defining `extern const std::string_view <namespace>::<symbol>`
# holding the file's bytes, regenerated whenever the file changes.
function(vmha_embed_text out in ns symbol)
  add_custom_command(
    OUTPUT "${out}"
    COMMAND "${CMAKE_COMMAND}" -DIN=${in} -DOUT=${out} -DNS=${ns} -DSYMBOL=${symbol}
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake"
    DEPENDS "${in}" "${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake"
    COMMENT "Embedding ${in}"
    VERBATIM)
endfunction()
