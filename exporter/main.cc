// anomaly_exporter: parses the command line and hands over to the app stage. Nothing else lives here.
#include <exception>
#include <iostream>

#include "anomaly/app/commands.h"

int main(int argc, char** argv) {
  try {
    return anomaly::app::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "anomaly_exporter: fatal: " << e.what() << "\n";
    return 1;
  }
}
