// HTTPS delivery: the peer certificate is verified against the configured CA file (or the system
// store), SNI carries the host name, and a certificate for another name is refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>

#include "lib/http_client/http_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/unit/lib/http_client/deliver.hpp"

namespace portico::http_client {
namespace {

using namespace std::chrono_literals;
using webhooks::test::ReceivedRequest;
using webhooks::test::Receiver;
using webhooks::test::Reply;
using webhooks::test::TlsFiles;

// A self-signed certificate (usable as its own CA) made with the openssl CLI.
TlsFiles make_cert(const portico::test::TempDir& dir, const std::string& name,
                   const std::string& subject_alt_names) {
  TlsFiles files{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj '/CN=" +
      name + "' -addext 'subjectAltName=" + subject_alt_names + "' -keyout '" + files.key +
      "' -out '" + files.cert + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl failed: " + command);
  return files;
}

OutgoingRequest to(const Receiver& receiver, const std::string& host = "127.0.0.1") {
  OutgoingRequest r;
  r.scheme = "https";
  r.host = host;
  r.port = receiver.port();
  r.target = "/hooks";
  r.body = R"({"type":"webhook.test"})";
  r.headers = {{"webhook-id", "evt_tls"}};
  r.pool_key = "ep_tls";
  r.timeout = 5s;
  return r;
}

class WebhookClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new portico::test::TempDir();
    good_ = new TlsFiles(make_cert(*dir_, "localhost", "DNS:localhost,IP:127.0.0.1"));
    other_ = new TlsFiles(make_cert(*dir_, "example.com", "DNS:example.com"));
  }
  static void TearDownTestSuite() {
    delete good_;
    delete other_;
    delete dir_;
  }
  static Reply ok(const ReceivedRequest&) {
    Reply reply;
    reply.body = "secure";
    return reply;
  }

  static portico::test::TempDir* dir_;
  static TlsFiles* good_;
  static TlsFiles* other_;
};
portico::test::TempDir* WebhookClientTls::dir_ = nullptr;
TlsFiles* WebhookClientTls::good_ = nullptr;
TlsFiles* WebhookClientTls::other_ = nullptr;

TEST_F(WebhookClientTls, DeliversWhenTheCertificateIsTrusted) {
  Receiver receiver(&ok, *good_);
  ClientOptions options;
  options.ca_file = good_->cert;
  HttpClient client(options);
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(result.body_excerpt, "secure");
  ASSERT_EQ(receiver.request_count(), 1u);
  auto got = receiver.requests()[0];
  EXPECT_EQ(got.body, R"({"type":"webhook.test"})");
  EXPECT_EQ(got.header("webhook-id"), "evt_tls");
  EXPECT_EQ(receiver.last_sni(), "");  // no SNI for an IP literal (RFC 6066)

  auto again = deliver(client, to(receiver));
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(again.connection_reused);
  EXPECT_EQ(receiver.connections(), 1);
}

TEST_F(WebhookClientTls, SendsSniAndVerifiesDnsNames) {
  Receiver receiver(&ok, *good_);
  ClientOptions options;
  options.ca_file = good_->cert;
  HttpClient client(options);
  auto result = deliver(client, to(receiver, "localhost"));
  EXPECT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(receiver.last_sni(), "localhost");
}

TEST_F(WebhookClientTls, RefusesAnUntrustedCertificate) {
  Receiver receiver(&ok, *good_);
  HttpClient client({});  // system CAs only: the self-signed certificate is not among them
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("TLS handshake with 127.0.0.1 failed"), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
  EXPECT_EQ(receiver.request_count(), 0u);
}

TEST_F(WebhookClientTls, RefusesACertificateForAnotherName) {
  Receiver receiver(&ok, *other_);
  ClientOptions options;
  options.ca_file = other_->cert;  // trusted, but issued to example.com
  HttpClient client(options);
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("does not match host name '127.0.0.1'"), std::string::npos)
      << result.error;
  result = deliver(client, to(receiver, "localhost"));
  EXPECT_NE(result.error.find("does not match host name 'localhost'"), std::string::npos)
      << result.error;
  EXPECT_EQ(receiver.request_count(), 0u);
}

TEST_F(WebhookClientTls, PlainHttpToATlsPortFailsCleanly) {
  Receiver receiver(&ok, *good_);
  HttpClient client({});
  auto request = to(receiver);
  request.scheme = "http";
  request.timeout = 2s;
  auto result = deliver(client, request);
  EXPECT_EQ(result.status, 0);
  EXPECT_FALSE(result.error.empty());
}

TEST(WebhookClientOptions, MissingCaFileIsReported) {
  ClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(HttpClient client(options), std::runtime_error);
}

}  // namespace
}  // namespace portico::http_client
