# The binary reports the revision it was built from (issue 15): its --version names
# `git rev-parse --short HEAD` of the checkout, or "unknown" where the checkout is not a git one.
#   cmake -DBINARY=<anomaly_exporter> -DSOURCE_DIR=<checkout> -P check_revision.cmake
set(expected unknown)
find_program(GIT_EXECUTABLE git)
if(GIT_EXECUTABLE)
  execute_process(COMMAND ${GIT_EXECUTABLE} --no-optional-locks rev-parse --short HEAD
                  WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0 AND out)
    set(expected ${out})
  endif()
endif()
execute_process(COMMAND ${BINARY} --version RESULT_VARIABLE rc OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BINARY} --version exited ${rc}")
endif()
string(FIND "${version}" "(revision: ${expected}, git: " at)
if(at EQUAL -1)
  message(FATAL_ERROR "${BINARY} --version says \"${version}\"; want revision ${expected} "
                      "(git rev-parse --short HEAD in ${SOURCE_DIR}): is the binary older than HEAD?")
endif()
message(STATUS "${version}")
