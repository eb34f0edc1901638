# Script mode helper for vmha_embed_text(): writes IN as a byte array into OUT.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(('[^']*',){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUT}" "// Generated from ${IN}; do not edit.\n#include <string_view>\n\nnamespace ${NS} {\nnamespace {\nconstexpr char kBytes[] = {\n    ${bytes}'\\0'};\n}  // namespace\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL}{kBytes, ${size}};\n}  // namespace ${NS}\n")
