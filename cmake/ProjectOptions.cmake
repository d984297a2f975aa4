# The policy target every anomaly_* target links PRIVATE: language level, warnings, sanitizers.
# Kept off imported targets so our warnings never reach third-party headers' targets.
add_library(anomaly_options INTERFACE)
add_library(anomaly::options ALIAS anomaly_options)
target_compile_features(anomaly_options INTERFACE cxx_std_20)
target_compile_options(anomaly_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
# g++ 12 at -O3 reports -Wrestrict inside libstdc++'s std::string operator+ (GCC PR 105329, fixed in 13):
# a false positive in the standard library, not in our code, so it is off for that compiler only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(anomaly_options INTERFACE -Wno-restrict)
endif()
if(ANOMALY_WERROR)
  target_compile_options(anomaly_options INTERFACE -Werror)
endif()
target_compile_definitions(anomaly_options INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
if(ANOMALY_SANITIZERS)
  list(JOIN ANOMALY_SANITIZERS "," _anomaly_san)
  target_compile_options(anomaly_options INTERFACE -fsanitize=${_anomaly_san} -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=all)
  target_link_options(anomaly_options INTERFACE -fsanitize=${_anomaly_san})
  # GCC's manual (-fsanitize=address): ASan raises the rate of false -Wmaybe-uninitialized warnings, and it
  # advises against -Werror with it. g++ 12 + ASan at -O1 reports one inside libstdc++'s std::regex (_NFA's
  # _State move, from alerting_test.cc); the plain build keeps the warning, so nothing of ours goes unchecked.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND "address" IN_LIST ANOMALY_SANITIZERS)
    target_compile_options(anomaly_options INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()
