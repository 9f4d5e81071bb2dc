// See readiness_read.hpp: a short read ends the socket's readiness until epoll reports it again.
#include "core/http/readiness_read.hpp"

#include <boost/asio.hpp>

#include <atomic>
#include <cerrno>
#include <utility>

#include "core/http/io_batch.hpp"

#include <sys/epoll.h>

namespace portico::http {
namespace asio = boost::asio;

namespace {
std::atomic<std::uint64_t> would_block{0};
}  // namespace

#if PORTICO_READINESS_READ
namespace {
using Reactor = asio::detail::epoll_reactor;
using Descriptor = Reactor::per_descriptor_data;  // the reactor's state of one socket

// Three private members of Asio's reactor are named through an explicit instantiation, where
// access is not checked: the reactor's epoll descriptor and the events a socket is registered for.
template <class Tag, typename Tag::type Member>
struct Expose {
  friend typename Tag::type member(Tag) { return Member; }
};
struct EpollFd {
  using type = int Reactor::*;
  friend type member(EpollFd);
};
struct RegisteredEvents {
  using type = std::uint32_t Reactor::descriptor_state::*;
  friend type member(RegisteredEvents);
};
struct TrySpeculative {  // per operation type: whether a new one is tried before epoll reports
  using type = bool (Reactor::descriptor_state::*)[Reactor::max_ops];
  friend type member(TrySpeculative);
};
template struct Expose<EpollFd, &Reactor::epoll_fd_>;
template struct Expose<RegisteredEvents, &Reactor::descriptor_state::registered_events_>;
template struct Expose<TrySpeculative, &Reactor::descriptor_state::try_speculative_>;

// Two protected ones through a class derived from theirs (never made): the epoll events the
// reactor last received for a socket, and the socket's implementation (descriptor, state, reactor
// data).
struct LastEvents : asio::detail::scheduler_operation {
  static unsigned of(Descriptor descriptor) {
    // A descriptor's state is a scheduler operation (a private base: only this cast may name it)
    // whose task result is the events of the epoll batch that made it ready last.
    auto* operation = (asio::detail::scheduler_operation*)descriptor;  // NOLINT
    return operation->*(&LastEvents::task_result_);
  }
};
struct SocketImpl : asio::ip::tcp::socket {
  static auto& of(asio::ip::tcp::socket& socket) {
    return (socket.*(&SocketImpl::impl_)).get_implementation();
  }
};

// Whether a read that got `got` of `asked` bytes emptied the socket: a short read did — unless
// the peer has closed its side, when the FIN may have come with these bytes and no further edge
// will: then the next read must try.
bool emptied(Descriptor descriptor, std::size_t got, std::size_t asked) {
  return got < asked && (LastEvents::of(descriptor) & EPOLLRDHUP) == 0;
}

}  // namespace
#endif

ReadinessRead::ReadinessRead()
    : reactor_op(boost::system::error_code(), &do_perform, &do_complete) {}

bool ReadinessRead::attach(asio::ip::tcp::socket& socket) {
#if PORTICO_READINESS_READ
  if (socket_ != nullptr || !socket.is_open()) return false;
  auto& impl = SocketImpl::of(socket);
  if (impl.reactor_data_ == nullptr ||
      (impl.state_ & asio::detail::socket_ops::non_blocking) == 0) {
    return false;
  }
  auto& reactor =
      asio::use_service<Reactor>(asio::query(socket.get_executor(), asio::execution::context));
  std::uint32_t& registered = impl.reactor_data_->*member(RegisteredEvents{});
  epoll_event event{};
  event.events = registered | EPOLLRDHUP;
  event.data.ptr = impl.reactor_data_;
  if (::epoll_ctl(reactor.*member(EpollFd{}), EPOLL_CTL_MOD, impl.socket_, &event) != 0) {
    return false;
  }
  registered = event.events;  // Asio's own re-registrations (EPOLLOUT, waits) keep EPOLLRDHUP
  socket_ = &socket;
  reactor_ = &reactor;
  return true;
#else
  (void)socket;
  return false;
#endif
}

void ReadinessRead::start(std::shared_ptr<void> keep, void* target, Callback callback,
                          asio::mutable_buffer buffer) {
  keep_ = std::move(keep);
  target_ = target;
  callback_ = callback;
  buffer_ = buffer;
  ec_ = boost::system::error_code();
  bytes_transferred_ = 0;
  cancellation_key_ = nullptr;
#if PORTICO_READINESS_READ
  // Like Asio's own reads: performed at once unless the reactor knows the socket is drained, then
  // when epoll reports it readable; a closed socket completes with bad_descriptor.
  auto& impl = SocketImpl::of(*socket_);
  static_cast<Reactor*>(reactor_)->start_op(Reactor::read_op, impl.socket_, impl.reactor_data_,
                                            this, /*is_continuation=*/false,
                                            /*allow_speculative=*/true);
#endif
}

std::uint64_t ReadinessRead::would_block_reads() {
  return would_block.load(std::memory_order_relaxed);
}

boost::asio::detail::reactor_op::status ReadinessRead::do_perform(reactor_op* base) {
  auto* self = static_cast<ReadinessRead*>(base);
#if PORTICO_READINESS_READ
  if (self->buffer_.size() == 0) return done;
  // Read with the batch: done here, the read itself then queued by do_complete.
  if (self->batch_ != nullptr && self->batch_->usable()) {
    self->deferred_ = true;
    return done;
  }
  auto& impl = SocketImpl::of(*self->socket_);
  // The receive Asio's own read operation makes: EINTR retried, end of file as eof.
  if (!asio::detail::socket_ops::non_blocking_recv1(impl.socket_, self->buffer_.data(),
                                                    self->buffer_.size(), 0, /*is_stream=*/true,
                                                    self->ec_, self->bytes_transferred_)) {
    would_block.fetch_add(1, std::memory_order_relaxed);  // EAGAIN: wait for epoll
    return not_done;
  }
  if (!self->ec_ && emptied(impl.reactor_data_, self->bytes_transferred_, self->buffer_.size())) {
    return done_and_exhausted;
  }
  return done;
#else
  self->ec_ = asio::error::operation_not_supported;
  return done;
#endif
}

int ReadinessRead::batched_read_socket() const {
  return socket_->is_open() ? socket_->native_handle() : -1;
}

void ReadinessRead::batched_read(int result) {
#if PORTICO_READINESS_READ
  bytes_transferred_ = 0;
  if (!socket_->is_open()) {  // closed since the batch read it
    ec_ = asio::error::operation_aborted;
    return call();
  }
  auto& impl = SocketImpl::of(*socket_);
  bool& try_reading = (impl.reactor_data_->*member(TrySpeculative{}))[Reactor::read_op];
  if (result == -EAGAIN || result == -EWOULDBLOCK || result == -EINTR) {
    // Nothing there after all (or a signal): wait for epoll to report the socket readable, as
    // do_perform's own EAGAIN does — or, after a signal, read again.
    if (result != -EINTR) {
      would_block.fetch_add(1, std::memory_order_relaxed);
      try_reading = false;
    }
    static_cast<Reactor*>(reactor_)->start_op(Reactor::read_op, impl.socket_, impl.reactor_data_,
                                              this, /*is_continuation=*/false,
                                              /*allow_speculative=*/true);
    return;
  }
  if (result < 0) {
    ec_ = boost::system::error_code(-result, boost::system::system_category());
  } else if (result == 0) {
    ec_ = asio::error::eof;
  } else {
    ec_ = boost::system::error_code();
    bytes_transferred_ = static_cast<std::size_t>(result);
    if (emptied(impl.reactor_data_, bytes_transferred_, buffer_.size())) try_reading = false;
  }
  call();
#else
  (void)result;
#endif
}

void ReadinessRead::call() {
  // What keeps the target (and this object) alive, let go of last: after the call.
  const std::shared_ptr<void> keep = std::move(keep_);
  const boost::system::error_code ec = ec_;
  callback_(target_, ec, bytes_transferred_);
}

void ReadinessRead::do_complete(void* owner, asio::detail::scheduler_operation* base,
                                const boost::system::error_code&, std::size_t) {
  auto* self = static_cast<ReadinessRead*>(static_cast<reactor_op*>(base));
  if (self->deferred_) {
    self->deferred_ = false;
    if (owner != nullptr) return self->batch_->add_read(self);  // keep_ stays with the read
  }
  if (owner == nullptr) {  // the io_context is being destroyed: no call
    const std::shared_ptr<void> keep = std::move(self->keep_);
    return;
  }
  self->call();
}

}  // namespace portico::http
