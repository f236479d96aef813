# cmake -DBUILD_DIR=... -DTARGET=... -DEXPECT=fail|pass [-DMISSING=header]
#   -P try_build.cmake
# Builds one target of the build tree. EXPECT=pass: the build must succeed.
# EXPECT=fail: it must fail, and because MISSING was not found (not for any
# other reason).
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} should build:\n${out}")
  endif()
else()
  if(rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} built, but it includes ${MISSING} from a layer above")
  endif()
  # gcc: "runtime/runtime.h: No such file or directory";
  # clang: "'runtime/runtime.h' file not found".
  string(FIND "${out}" "${MISSING}: No such file or directory" gcc_at)
  string(FIND "${out}" "'${MISSING}' file not found" clang_at)
  if(gcc_at EQUAL -1 AND clang_at EQUAL -1)
    message(FATAL_ERROR "${TARGET} failed, but not for want of ${MISSING}:\n${out}")
  endif()
endif()
message(STATUS "${TARGET}: ${EXPECT} as expected")
