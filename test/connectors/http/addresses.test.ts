import assert from 'node:assert/strict';
import { HostRules, invalidHostEntries, isRefusedName, parseCidr, parseIp, refusedRange, unmapped } from '../../../connectors/http/addresses';

const refused = (text: string): string | undefined => {
  const ip = parseIp(text);
  assert.ok(ip, `${text} parses`);
  return refusedRange(ip);
};

describe('connectors/http/addresses', () => {
  describe('refusedRange', () => {
    const cases: Array<[string, RegExp]> = [
      ['127.0.0.1', /loopback/],
      ['127.255.255.254', /loopback/],
      ['0.0.0.0', /unspecified/],
      ['10.0.0.1', /private 10\./],
      ['172.16.0.1', /private 172\.16/],
      ['172.31.255.255', /private 172\.16/],
      ['192.168.1.1', /private 192\.168/],
      ['100.64.0.1', /carrier-grade NAT/],
      ['100.100.100.200', /carrier-grade NAT/], // Alibaba Cloud's metadata service
      ['169.254.169.254', /link-local.*metadata/],
      ['224.0.0.1', /multicast/],
      ['255.255.255.255', /reserved|broadcast/],
      ['::', /unspecified/],
      ['::1', /loopback ::1/],
      ['fe80::1', /link-local fe80/],
      ['fd00:ec2::254', /unique-local/], // AWS's IPv6 metadata service
      ['fc00::1', /unique-local/],
      ['ff02::1', /multicast/],
      ['::ffff:127.0.0.1', /IPv4-mapped form of loopback/],
      ['::ffff:7f00:1', /IPv4-mapped form of loopback/],
      ['::ffff:169.254.169.254', /IPv4-mapped form of link-local/],
      ['::ffff:a00:1', /IPv4-mapped form of private 10\./],
      ['64:ff9b::7f00:1', /NAT64 form of loopback/],
      ['2002:7f00:1::', /6to4 form of loopback/],
      ['2002:a9fe:a9fe::1', /6to4 form of link-local/],
      ['::127.0.0.1', /IPv4-compatible/],
      ['2001::1', /Teredo/],
    ];
    for (const [address, why] of cases) {
      it(`should refuse ${address}`, () => assert.match(refused(address) ?? '(allowed)', why));
    }

    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) {
      it(`should allow the public address ${address}`, () => assert.equal(refused(address), undefined));
    }
  });

  describe('parseIp', () => {
    it('should read brackets, :: and a trailing dotted quad, and refuse zone ids and non-addresses', () => {
      assert.deepEqual([...parseIp('[::1]')!.bytes], [...new Array(15).fill(0), 1]);
      assert.deepEqual([...parseIp('1:2::7:8')!.bytes], [0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8]);
      assert.deepEqual([...parseIp('::ffff:1.2.3.4')!.bytes.slice(10)], [0xff, 0xff, 1, 2, 3, 4]);
      assert.deepEqual(unmapped(parseIp('::ffff:1.2.3.4')!), { family: 4, bytes: new Uint8Array([1, 2, 3, 4]) });
      for (const bad of ['fe80::1%eth0', '127.1', '0x7f.0.0.1', 'example.org', '1.2.3.4.5', '']) assert.equal(parseIp(bad), undefined, bad);
    });

    it('should read CIDR ranges and refuse bad prefixes', () => {
      assert.equal(parseCidr('10.0.0.0/8')?.bits, 8);
      assert.equal(parseCidr('10.1.2.3')?.bits, 32);
      assert.equal(parseCidr('fd00::/8')?.bits, 8);
      for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/8', 'fd00::/129', 'gpu.lan/24', '10.0.0.0/']) assert.equal(parseCidr(bad), undefined, bad);
    });
  });

  describe('names', () => {
    it('should refuse metadata and localhost names whatever their case or trailing dot', () => {
      for (const name of ['localhost', 'LOCALHOST.', 'api.localhost', 'metadata.google.internal', 'Metadata.Google.Internal.', 'metadata', 'instance-data.ec2.internal']) {
        assert.equal(isRefusedName(name), true, name);
      }
      for (const name of ['replicate.delivery', 'metadata.example.org', 'localhost.example.org']) assert.equal(isRefusedName(name), false, name);
    });
  });

  describe('HostRules', () => {
    const rules = new HostRules(['GPU.lan', '10.1.0.0/16', '127.0.0.1', 'fd12::/16']);

    it('should match names exactly (case-insensitive, trailing dot ignored) and addresses by range', () => {
      assert.equal(rules.hasHost('gpu.lan'), true);
      assert.equal(rules.hasHost('gpu.lan.'), true);
      assert.equal(rules.hasHost('evil.gpu.lan'), false);
      assert.equal(rules.hasHost('gpu.lan.evil.org'), false);
      assert.equal(rules.hasHost('10.1.200.3'), true);
      assert.equal(rules.hasHost('10.2.0.1'), false);
      assert.equal(rules.hasHost('[fd12::5]'), true);
      assert.equal(rules.hasAddress(parseIp('::ffff:127.0.0.1')!), true, 'the IPv4-mapped form is the same host');
      assert.equal(rules.hasAddress(parseIp('127.0.0.2')!), false);
    });

    it('should refuse entries that are neither names, addresses nor ranges', () => {
      assert.throws(() => new HostRules(['gpu.lan', 'http://gpu.lan']), /"http:\/\/gpu\.lan" is not a host name/);
      assert.deepEqual(invalidHostEntries(['gpu.lan', '10.0.0.0/8', '*', 'a b', '10.0.0.0/99', 'gpu.lan:8000']), ['*', 'a b', '10.0.0.0/99', 'gpu.lan:8000']);
    });
  });
});
