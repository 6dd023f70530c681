// Cluster authentication (issue 6): the HMAC helpers against RFC 4231, and the
// frontend's challenge-response handshake and protected mode, driven input by input.
#include "core/auth.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/frontend.h"

namespace kvs {
namespace {

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// ---- the primitives -------------------------------------------------------------

TEST(Hmac, Rfc4231TestCase1) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Hmac, Rfc4231TestCase2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, Rfc4231TestCase3And6) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // A key longer than the hash's block is hashed first.
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'),
                               "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Hmac, HexRoundTrips) {
  EXPECT_EQ(to_hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(unhex("0001abff"), std::string("\x00\x01\xab\xff", 4));
}

TEST(Auth, ProofIsTheDocumentedHmac) {
  // docs/PROTOCOL.md: hex(HMAC-SHA256(secret, nonce "\n" role "\n" id)); checked here
  // against Python's hmac module: hmac.new(b"secret", b"n\nclient\nalice", sha256).
  EXPECT_EQ(auth_proof("secret", "n", "client", "alice"),
            "ecfb214723961ce9c6d193639fa83032c145cfb875f60480c2860cfad7c3af59");
  EXPECT_TRUE(proof_matches("secret", "n", "client", "alice",
                            "ecfb214723961ce9c6d193639fa83032c145cfb875f60480c2860cfad7c3af59"));
  EXPECT_FALSE(proof_matches("secret", "n", "client", "bob",
                             "ecfb214723961ce9c6d193639fa83032c145cfb875f60480c2860cfad7c3af59"));
  EXPECT_FALSE(proof_matches("secret", "n", "storage", "alice",
                             "ecfb214723961ce9c6d193639fa83032c145cfb875f60480c2860cfad7c3af59"));
  EXPECT_FALSE(proof_matches("secret", "n", "client", "alice", ""));
}

TEST(Auth, ConstantTimeCompareIsAnEquality) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("abc", ""));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));

  EXPECT_TRUE(secrets_equal("hunter2", "hunter2"));
  EXPECT_FALSE(secrets_equal("hunter", "hunter2"));
  EXPECT_FALSE(secrets_equal("hunter22", "hunter2"));
  EXPECT_FALSE(secrets_equal("", "hunter2"));
  EXPECT_FALSE(secrets_equal("Hunter2", "hunter2"));
}

TEST(Auth, NoncesAreDistinctHexAndDependOnTheSeed) {
  NonceSource a(SeedKey{1}), b(SeedKey{2}), a2(SeedKey{1});
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string n = a.next();
    ASSERT_EQ(n.size(), 64u);
    ASSERT_EQ(n.find_first_not_of("0123456789abcdef"), std::string::npos);
    ASSERT_TRUE(seen.insert(n).second) << "nonce repeated after " << i;
  }
  const std::string first_b = b.next();
  EXPECT_EQ(seen.count(first_b), 0u) << "another seed, other nonces";
  EXPECT_EQ(seen.count(a2.next()), 1u) << "derived from the seed alone: the seed is the secret";
}

TEST(Auth, LoopbackAddresses) {
  for (const char* ip :
       {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_ip(ip)) << ip;
  }
  for (const char* ip : {"0.0.0.0", "10.0.0.1", "128.0.0.1", "1127.0.0.1", "127.0.0", "127.0.0.1.",
                         "127.0.0.256", "::", "::2", "", "localhost", "127.0.0.1a"}) {
    EXPECT_FALSE(is_loopback_ip(ip)) << ip;
  }
}

// ---- the frontend's handshake -----------------------------------------------------

constexpr ConnId kC1 = kFirstInboundConn + 1;
constexpr ConnId kC2 = kFirstInboundConn + 2;
const PeerAddress kLocalPeer{"127.0.0.1:40000", true};
const PeerAddress kRemote{"192.0.2.10:40000", false};

class FrontendAuthTest : public ::testing::Test {
 protected:
  void make(const std::string& secret, bool insecure = false) {
    FrontendConfig c;
    c.secret = secret;
    c.insecure_no_secret = insecure;
    fe_ = std::make_unique<Frontend>(c, SeedKey{42});
    fe_->on_start(now_);
    logs_.clear();
    drain();
  }

  // The state file is written at once.
  void drain() {
    while (!fe_->outbox().empty()) {
      for (Effect& e : fe_->outbox().take()) {
        if (auto* s = std::get_if<Send>(&e)) sent_[s->conn].push_back(std::move(s->msg));
        if (auto* c = std::get_if<Close>(&e)) closed_.insert(c->conn);
        if (auto* l = std::get_if<LogLine>(&e)) logs_.push_back(l->text);
        if (auto* d = std::get_if<DiskSnapshot>(&e)) fe_->on_disk_done(d->token, {}, now_);
      }
    }
  }

  // Accepts conn; returns the challenge's nonce ("" if none came).
  std::string accept(ConnId conn, Listener l = Listener::kClients,
                     const PeerAddress& p = kLocalPeer) {
    fe_->on_accepted(conn, l, p, now_);
    drain();
    auto& box = sent_[conn];
    if (box.empty() || !std::holds_alternative<Challenge>(box.front())) return "";
    std::string nonce = std::get<Challenge>(box.front()).nonce;
    box.erase(box.begin());
    return nonce;
  }

  void say(ConnId conn, Message m) {
    fe_->on_message(conn, std::move(m), now_);
    drain();
  }

  std::vector<Message> take(ConnId conn) { return std::exchange(sent_[conn], {}); }

  bool logged(const std::string& fragment) const {
    for (const std::string& l : logs_) {
      if (l.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  // Exactly one message, an error with this code, and the connection closed.
  void expect_refused(ConnId conn, const std::string& code) {
    auto sent = take(conn);
    ASSERT_EQ(sent.size(), 1u) << "one clear error, nothing else";
    ASSERT_TRUE(std::holds_alternative<Error>(sent[0])) << type_name(sent[0]);
    EXPECT_EQ(std::get<Error>(sent[0]).code, code) << std::get<Error>(sent[0]).message;
    EXPECT_TRUE(closed_.count(conn));
  }

  Nanos now_ = 1000 * kSecond;
  std::unique_ptr<Frontend> fe_;
  std::map<ConnId, std::vector<Message>> sent_;
  std::set<ConnId> closed_;
  std::vector<std::string> logs_;
};

TEST_F(FrontendAuthTest, GoodProofIsWelcomedOnBothPorts) {
  make("s3cret");
  const std::string nonce = accept(kC1);
  ASSERT_EQ(nonce.size(), 64u);
  say(kC1,
      Hello{"client", kProtocolVersion, "alice", auth_proof("s3cret", nonce, "client", "alice")});
  say(kC1, Request{1, Op::kGet, "k", "", 0});
  auto sent = take(kC1);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0], Message(Welcome{"frontend"}));
  EXPECT_FALSE(closed_.count(kC1));

  const std::string n2 = accept(kC2, Listener::kStorage);
  say(kC2, Hello{"storage", kProtocolVersion, "s1", auth_proof("s3cret", n2, "storage", "s1")});
  EXPECT_EQ(take(kC2), (std::vector<Message>{Welcome{"frontend"}}));
  EXPECT_EQ(fe_->status()["nodes"].size(), 1u);
}

TEST_F(FrontendAuthTest, WrongSecretGetsOneErrorThenCloseAndNothingMore) {
  make("s3cret");
  const std::string nonce = accept(kC1);
  say(kC1,
      Hello{"client", kProtocolVersion, "alice", auth_proof("guess", nonce, "client", "alice")});
  expect_refused(kC1, "auth_failed");
  // Whatever follows on that connection is not processed.
  say(kC1, Request{1, Op::kPut, "k", "v", 0});
  say(kC1, StatusRequest{});
  EXPECT_TRUE(take(kC1).empty());
  EXPECT_EQ(fe_->status()["clients"], 0);
  EXPECT_TRUE(logged("refused: authentication failed"));

  // A storage node with the wrong secret is not admitted.
  const std::string n2 = accept(kC2, Listener::kStorage);
  say(kC2, Hello{"storage", kProtocolVersion, "s1", auth_proof("guess", n2, "storage", "s1")});
  say(kC2, Join{0});
  expect_refused(kC2, "auth_failed");
  EXPECT_EQ(fe_->status()["nodes"].size(), 0u);
}

TEST_F(FrontendAuthTest, ProofForAnotherRoleOrIdOrNoProofIsRefused) {
  make("s3cret");
  std::string n = accept(kC1);
  // Proved as "bob", presented as "alice".
  say(kC1, Hello{"client", kProtocolVersion, "alice", auth_proof("s3cret", n, "client", "bob")});
  expect_refused(kC1, "auth_failed");
  n = accept(kC2);
  say(kC2, Hello{"client", kProtocolVersion, "alice", ""});
  expect_refused(kC2, "auth_failed");
  n = accept(kC2 + 1, Listener::kStorage);
  say(kC2 + 1, Hello{"storage", kProtocolVersion, "s1", auth_proof("s3cret", n, "client", "s1")});
  expect_refused(kC2 + 1, "auth_failed");
}

TEST_F(FrontendAuthTest, NoHelloOrGarbageBeforeHelloIsRefused) {
  make("s3cret");
  accept(kC1);
  say(kC1, Request{1, Op::kPut, "k", "v", 0});
  expect_refused(kC1, "expected_hello");
  EXPECT_EQ(fe_->status()["uncommitted"], 0) << "the PUT was not executed";

  accept(kC2);
  fe_->on_protocol_error(kC2, "invalid JSON at byte 0", now_);
  drain();
  expect_refused(kC2, "bad_frame");
}

TEST_F(FrontendAuthTest, AReplayedProofForAnOldNonceIsRefused) {
  make("s3cret");
  const std::string old_nonce = accept(kC1);
  const Hello hello{"client", kProtocolVersion, "alice",
                    auth_proof("s3cret", old_nonce, "client", "alice")};
  say(kC1, hello);
  EXPECT_EQ(take(kC1), (std::vector<Message>{Welcome{"frontend"}}));
  // An eavesdropper replays the whole hello on a new connection.
  const std::string new_nonce = accept(kC2);
  EXPECT_NE(new_nonce, old_nonce);
  say(kC2, hello);
  expect_refused(kC2, "auth_failed");
}

TEST_F(FrontendAuthTest, NoncesDifferAcrossConnectionsAndFrontends) {
  make("s3cret");
  std::set<std::string> nonces;
  for (ConnId c = kC1; c < kC1 + 100; ++c) {
    const std::string n = accept(c, c % 2 ? Listener::kClients : Listener::kStorage);
    EXPECT_EQ(n.size(), 64u);
    EXPECT_TRUE(nonces.insert(n).second) << "repeated nonce on connection " << c;
  }
  // Another seed (as another process would get from getrandom): other nonces.
  FrontendConfig c;
  c.secret = "s3cret";
  Frontend other(c, SeedKey{43});
  other.on_accepted(kC1, Listener::kClients, kLocalPeer, now_);
  for (Effect& e : other.outbox().take()) {
    if (auto* s = std::get_if<Send>(&e)) {
      EXPECT_EQ(nonces.count(std::get<Challenge>(s->msg).nonce), 0u);
    }
  }
}

TEST_F(FrontendAuthTest, WithASecretNetworkPeersAreChallengedNotRefused) {
  make("s3cret");
  const std::string n = accept(kC1, Listener::kClients, kRemote);
  ASSERT_EQ(n.size(), 64u);
  say(kC1, Hello{"client", kProtocolVersion, "alice", auth_proof("s3cret", n, "client", "alice")});
  EXPECT_EQ(take(kC1), (std::vector<Message>{Welcome{"frontend"}}));
}

TEST_F(FrontendAuthTest, ProtectedModeRefusesNonLoopbackAndAcceptsLoopback) {
  make("");
  EXPECT_TRUE(logged("protected mode"));
  EXPECT_EQ(accept(kC1, Listener::kClients, kRemote), "");
  expect_refused(kC1, "protected_mode");
  EXPECT_EQ(accept(kC2, Listener::kStorage, kRemote), "");
  expect_refused(kC2, "protected_mode");
  EXPECT_TRUE(logged("192.0.2.10:40000"));

  // Loopback: challenged, and without a secret no proof is needed.
  const std::string n = accept(kC2 + 1, Listener::kClients, kLocalPeer);
  EXPECT_EQ(n.size(), 64u);
  say(kC2 + 1, Hello{"client", kProtocolVersion, "alice", ""});
  EXPECT_EQ(take(kC2 + 1), (std::vector<Message>{Welcome{"frontend"}}));
}

TEST_F(FrontendAuthTest, InsecureNoSecretAcceptsNetworkPeersWithAWarning) {
  make("", /*insecure=*/true);
  EXPECT_TRUE(logged("WARNING"));
  EXPECT_FALSE(logged("protected mode"));
  const std::string n = accept(kC1, Listener::kClients, kRemote);
  EXPECT_EQ(n.size(), 64u);
  say(kC1, Hello{"client", kProtocolVersion, "alice", ""});
  EXPECT_EQ(take(kC1), (std::vector<Message>{Welcome{"frontend"}}));
}

}  // namespace
}  // namespace kvs
