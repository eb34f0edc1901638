# Project-wide warning, sanitizer and clang-tidy switches.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
if(VMHA_WERROR)
  add_compile_options(-Werror)
endif()
if(VMHA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(VMHA_CLANG_TIDY)
  find_program(CLANG_TIDY_EXE NAMES clang-tidy REQUIRED)
  # g++-only warning flags (-Wno-restrict) are unknown to clang.
  set(CMAKE_CXX_CLANG_TIDY "${CLANG_TIDY_EXE}" "--extra-arg=-Wno-unknown-warning-option")
  if(VMHA_WERROR)
    list(APPEND CMAKE_CXX_CLANG_TIDY "--warnings-as-errors=*")
  endif()
endif()
# g++ 12 warns on std::string assignments at -O2 with -Wrestrict (GCC bug 105329), a known
# false positive inside libstdc++.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  add_compile_options(-Wno-restrict)
endif()
