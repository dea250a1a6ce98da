# trim_peer.rb: times a peer's reply trimmer in one Ruby process, over the
# same files as bench/parse_bench (docs/performance.md, "Reply trimming
# against the peers").
#
#   ruby trim_peer.rb PEER PEERS_DIR SECONDS LIST          # throughput
#   ruby trim_peer.rb PEER PEERS_DIR SECONDS LIST --each   # time per input
#
# PEER is discourse (EmailReplyTrimmer.trim, from
# PEERS_DIR/email_reply_trimmer) or github (EmailReplyParser.parse_reply,
# from PEERS_DIR/email_reply_parser); LIST names the input files, one a
# line.  The files are read into memory first (as UTF-8, invalid bytes
# replaced, as a mail library would hand the peer a body), then the peer's
# function runs over all of them, round after round, until SECONDS have
# passed (at least one round).  Prints one line like parse_bench's:
# messages, rounds, seconds, messages per second.  With --each, each file
# is timed on its own (repeated for SECONDS / files, at least once) and one
# line a file gives the milliseconds a call.  The peers' code is not part
# of this project: tools/bench/peers.sh says how to get it.

peer, dir, seconds, list, mode = ARGV
abort "usage: trim_peer.rb discourse|github PEERS_DIR SECONDS LIST [--each]" if list.nil?
seconds = seconds.to_f

case peer
when "discourse"
  require File.join(dir, "email_reply_trimmer", "lib", "email_reply_trimmer")
  run = ->(text) { EmailReplyTrimmer.trim(text) }
when "github"
  require File.join(dir, "email_reply_parser", "lib", "email_reply_parser")
  run = ->(text) { EmailReplyParser.parse_reply(text) }
else
  abort "trim_peer.rb: unknown peer #{peer}"
end

files = File.readlines(list, chomp: true).reject(&:empty?)
texts = files.map do |f|
  t = File.binread(f).force_encoding(Encoding::UTF_8)
  t.valid_encoding? ? t : t.scrub
end
clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }

if mode == "--each"
  per_file = seconds / files.size
  files.each_with_index do |f, i|
    n = 0
    t0 = clock.call
    loop do
      run.call(texts[i].dup)
      n += 1
      break if clock.call - t0 >= per_file
    end
    printf("%.3f ms %s\n", (clock.call - t0) * 1000.0 / n, f)
  end
else
  bytes = texts.sum(&:bytesize)
  rounds = 0
  t0 = clock.call
  loop do
    texts.each { |t| run.call(t.dup) }
    rounds += 1
    break if clock.call - t0 >= seconds
  end
  elapsed = clock.call - t0
  printf("%-8s %6d msgs %6.1f KB avg %6d rounds %6.2f s %9.0f msgs/s\n", peer, files.size,
         bytes / files.size / 1024.0, rounds, elapsed, files.size * rounds / elapsed)
end
