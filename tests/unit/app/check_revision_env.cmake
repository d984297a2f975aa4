# Outside a git checkout (a container build: the Dockerfile's context leaves .git out) the revision comes
# from ANOMALY_REVISION / ANOMALY_GIT_DESCRIBE in the environment (the Dockerfile's build arguments),
# sanitised to a plain string literal, and is "unknown" without them (issue 15).
#   cmake -DREVISION_SCRIPT=<cmake/Revision.cmake> -DWORK=<empty scratch dir> -P check_revision_env.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/source)
# The scratch dir lies inside the build tree, which may lie inside the checkout: stop git's search there.
set(ENV{GIT_CEILING_DIRECTORIES} ${WORK})

function(expect_header label want_revision want_describe)
  file(READ ${WORK}/revision.h text)
  foreach(line "#define ANOMALY_REVISION \"${want_revision}\""
               "#define ANOMALY_GIT_DESCRIBE \"${want_describe}\"")
    string(FIND "${text}" "${line}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${label}: revision.h lacks '${line}':\n${text}")
    endif()
  endforeach()
endfunction()

function(generate)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ARGN}
                          ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK}/source -DOUTPUT=${WORK}/revision.h
                          -P ${REVISION_SCRIPT}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "Revision.cmake exited ${rc} with ${ARGN}")
  endif()
endfunction()

generate(--unset=ANOMALY_REVISION --unset=ANOMALY_GIT_DESCRIBE)
expect_header("no git, no environment" unknown unknown)
generate(ANOMALY_REVISION=1a2b3c4 ANOMALY_GIT_DESCRIBE=v0.1.0-7-g1a2b3c4-dirty)
expect_header("both build arguments" 1a2b3c4 v0.1.0-7-g1a2b3c4-dirty)
generate(ANOMALY_REVISION=1a2b3c4 --unset=ANOMALY_GIT_DESCRIBE)
expect_header("revision only" 1a2b3c4 1a2b3c4)
generate("ANOMALY_REVISION=1a2\"b3'c4\\ " --unset=ANOMALY_GIT_DESCRIBE)
expect_header("quotes, backslashes and spaces dropped" 1a2b3c4 1a2b3c4)
