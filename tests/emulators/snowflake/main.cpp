// The Snowflake SQL API emulator as a program, for `frost serve` against it by hand or in CI:
//   snowflake_emulator --database data/citibike.duckdb --public-key rsa_key.pub [--port 8085]
// Prints "listening on http://127.0.0.1:PORT" and serves until SIGINT/SIGTERM. Faults and the
// request log are reachable at POST /_emulator/faults, GET /_emulator/log, POST /_emulator/reset.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "emulators/snowflake/emulator.hpp"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

int usage() {
    std::cerr << "usage: snowflake_emulator --database FILE --public-key PEM_FILE [--public-key PEM_FILE]\n"
                 "       [--token TOKEN] [--account ACCOUNT] [--user USER] [--database-name NAME]\n"
                 "       [--port N] [--port-file FILE] [--partition-rows N] [--sync-wait-ms N] [--fault JSON]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace frost::emulators::snowflake;
    emulator_options options;
    std::string port_file;
    std::vector<fault> faults;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            auto next = [&]() -> std::string {
                if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
                return argv[++i];
            };
            if (arg == "--database")
                options.database_path = next();
            else if (arg == "--database-name")
                options.database_name = next();
            else if (arg == "--public-key")
                options.public_keys_pem.push_back(read_file(next()));
            else if (arg == "--token")
                options.tokens.push_back(next());
            else if (arg == "--account")
                options.account = next();
            else if (arg == "--user")
                options.user = next();
            else if (arg == "--port")
                options.port = static_cast<std::uint16_t>(std::stoul(next()));
            else if (arg == "--port-file")
                port_file = next();
            else if (arg == "--partition-rows")
                options.partition_rows = std::stoul(next());
            else if (arg == "--sync-wait-ms")
                options.sync_wait = std::chrono::milliseconds(std::stoul(next()));
            else if (arg == "--fault")
                for (auto& f : parse_faults(next())) faults.push_back(f);
            else
                return usage();
        }
        if (options.database_path.empty()) return usage();
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);  // threads started below inherit the mask
        emulator emu(options);
        for (auto& f : faults) emu.add_fault(f);
        if (!port_file.empty()) std::ofstream(port_file) << emu.port() << "\n";
        std::cout << "listening on " << emu.base_url() << std::endl;
        int sig = 0;
        sigwait(&set, &sig);
        emu.stop();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "snowflake_emulator: " << e.what() << "\n";
        return 1;
    }
}
