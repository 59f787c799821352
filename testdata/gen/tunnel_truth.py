"""Reads tshark's fields (make-tunnel-fixtures.sh) on stdin and writes one
TRUTH.tsv line per frame: the innermost IP header's version and addresses
and the transport right after it, as tshark dissects them. A packet quoted in
an ICMP error is not followed: the ICMP packet is the innermost."""
import sys

name = sys.argv[1]
for line in sys.stdin:
    f = line.rstrip('\n').split('\t')
    f += [''] * (10 - len(f))
    frame, protos = f[0], f[1].split(':')
    col = lambda i: f[i].split(',') if f[i] else []
    ip_src, ip_dst, ip6_src, ip6_dst = col(2), col(3), col(4), col(5)
    tcp_sp, tcp_dp, udp_sp, udp_dp = col(6), col(7), col(8), col(9)
    n4 = n6 = nt = nu = 0
    ver, src, dst, tr, sp, dp = 0, '', '', '', '', ''
    for p in protos:
        if p in ('icmp', 'icmpv6'):
            if ver:
                tr = tr or p
            break
        if p == 'ip':
            ver, src, dst, tr, sp, dp = 4, ip_src[n4], ip_dst[n4], '', '', ''
            n4 += 1
        elif p == 'ipv6':
            ver, src, dst, tr, sp, dp = 6, ip6_src[n6], ip6_dst[n6], '', '', ''
            n6 += 1
        elif p == 'tcp':
            if ver and not tr:
                tr, sp, dp = 'tcp', tcp_sp[nt], tcp_dp[nt]
            nt += 1
        elif p == 'udp':
            if ver and not tr:
                tr, sp, dp = 'udp', udp_sp[nu], udp_dp[nu]
            nu += 1
    print('\t'.join([name, frame, f[1], str(ver), src, dst, tr, sp, dp]))
