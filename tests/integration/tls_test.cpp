// The optional TLS listener: a self-signed certificate made for the test, checked with curl.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  ::pclose(pipe);
  return output;
}

// A self-signed certificate for 127.0.0.1, made for the test in `dir`.
struct Certificate {
  std::filesystem::path cert, key;
};
Certificate self_signed(const TempDir& dir) {
  Certificate made{dir / "cert.pem", dir / "key.pem"};
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
      made.key.string() + " -out " + made.cert.string());
  return made;
}

// The overrides that open the TLS listener on `port` with `certificate`.
std::vector<std::string> tls_listener(const Certificate& certificate, std::uint16_t port) {
  return {"--set", "server.tls.listen=127.0.0.1:" + std::to_string(port), "--set",
          "server.tls.cert=" + certificate.cert.string(), "--set",
          "server.tls.key=" + certificate.key.string()};
}

TEST(Tls, ServesHttpsWithTheConfiguredCertificate) {
  TempDir certs;
  auto certificate = self_signed(certs);
  ASSERT_TRUE(std::filesystem::exists(certificate.cert));
  std::uint16_t tls_port = free_port();
  Gateway gw(tls_listener(certificate, tls_port));
  std::string out = run("curl -s -i --max-time 5 --cacert " + certificate.cert.string() +
                        " https://127.0.0.1:" + std::to_string(tls_port) + "/healthz");
  EXPECT_NE(out.find("HTTP/1.1 200"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Request-Id"), std::string::npos) << out;
  // Plain HTTP on the TLS port is not served.
  std::string plain = run("curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:" +
                          std::to_string(tls_port) + "/healthz");
  EXPECT_NE(plain, "200");
}

// The handshake has the header deadline: a client that connects and never speaks TLS is cut off
// (the connection's one timer, armed for header_timeout before the handshake).
TEST(Tls, AClientThatNeverCompletesTheHandshakeIsCutOff) {
  TempDir certs;
  auto certificate = self_signed(certs);
  ASSERT_TRUE(std::filesystem::exists(certificate.cert));
  std::uint16_t tls_port = free_port();
  auto args = tls_listener(certificate, tls_port);
  args.insert(args.end(), {"--set", "server.header_timeout=300ms"});
  Gateway gw(std::move(args));
  HttpConnection silent("127.0.0.1", tls_port);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed_by_peer(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(Tls, UnreadableCertificateIsAClearStartupError) {
  TempDir dir;
  auto args = std::vector<std::string>{"serve", "-c", demo_config()};
  for (auto& a : scratch_overrides(dir, free_port(), free_port())) args.push_back(a);
  for (std::string a :
       {"--set", "server.tls.listen=127.0.0.1:0", "--set", "server.tls.cert=/nonexistent.pem",
        "--set", "server.tls.key=/nonexistent.key"})
    args.push_back(a);
  auto result = run_portico(args);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("cannot use TLS certificate '/nonexistent.pem'"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace portico::test
