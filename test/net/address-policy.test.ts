/** The address policy: every internal range and spelling is refused, public addresses pass. */
import { afterEach, expect, test } from 'bun:test'
import { canonicalHost, forbiddenAddress, forbiddenHost, parseIPv6 } from '../../src/net/address-policy'
import { checkBaseUrl, connectRefusal, guardProvider, setResolver } from '../../src/net/upstream-guard'
import { refusedHeader } from '../../src/net/header-policy'
import type { ProviderConfig } from '../../src/config/schema'

const strict = { allowedBaseUrls: [], allowPrivate: false }
afterEach(() => setResolver(undefined))

test('internal IPv4 and IPv6 addresses, in any spelling the URL parser accepts, are refused', () => {
  for (const url of [
    'https://127.0.0.1/', 'https://127.255.1.2/', 'https://10.1.2.3/', 'https://172.16.0.1/', 'https://172.31.255.255/',
    'https://192.168.1.1/', 'https://169.254.169.254/', 'https://100.64.0.1/', 'https://100.127.255.255/', 'https://0.0.0.0/',
    'https://224.0.0.1/', 'https://255.255.255.255/', 'https://[::1]/', 'https://[::]/', 'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:169.254.169.254]/', 'https://[::127.0.0.1]/', 'https://[fd00:ec2::254]/', 'https://[fe80::1]/',
    'https://[fc00::1]/', 'https://[ff02::1]/', 'https://[64:ff9b::a9fe:a9fe]/', 'https://[2002:7f00:1::]/',
    'https://2130706433/', 'https://0x7f000001/', 'https://0177.0.0.1/', 'https://127.1/', 'https://0x7f.1/',
    'https://metadata.google.internal/', 'https://METADATA.GOOGLE.INTERNAL./', 'https://localhost/', 'https://a.localhost/',
  ]) expect(forbiddenHost(canonicalHost(new URL(url))), url).toBeDefined()
})

test('public addresses pass', () => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '169.253.0.1'])
    expect(forbiddenAddress(ip), ip).toBeUndefined()
  expect(parseIPv6('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])
})

test('a name that resolves to an internal address is refused when saved', async () => {
  setResolver(async (h) => (h === 'inside.example.com' ? ['93.184.216.34', '127.0.0.1'] : ['93.184.216.34']))
  expect(await checkBaseUrl('https://inside.example.com/v1', strict)).toContain('127.0.0.1 is loopback')
  expect(await checkBaseUrl('https://api.example.com/v1', strict)).toBeUndefined()
  expect(await checkBaseUrl('http://api.example.com/v1', strict)).toContain('https')
  expect(await checkBaseUrl('https://u:p@api.example.com/v1', strict)).toContain('password')
  // The operator's opt-out and list.
  expect(await checkBaseUrl('http://127.0.0.1:9/v1', { allowedBaseUrls: [], allowPrivate: true })).toBeUndefined()
  expect(await checkBaseUrl('http://10.0.0.5/v1', { allowedBaseUrls: ['http://10.0.0.5/'], allowPrivate: false })).toBeUndefined()
})

test('DNS rebinding: public when saved, internal at connect time → refused at connect time', async () => {
  let answer = '93.184.216.34'
  setResolver(async () => [answer])
  const p = guardProvider({ id: 'x', api: 'openai', base_url: 'https://rebind.example.com/v1' } as ProviderConfig, strict)
  expect(await checkBaseUrl(p.base_url!, strict)).toBeUndefined()
  expect(await connectRefusal(p, 'https://rebind.example.com/v1/chat/completions')).toBeUndefined()
  answer = '10.0.0.7'
  expect(await connectRefusal(p, 'https://rebind.example.com/v1/chat/completions')).toContain('10.0.0.7 is private')
  // The operator's providers are never checked (and cost no lookup).
  expect(connectRefusal({ id: 'y', api: 'openai' } as ProviderConfig, 'http://127.0.0.1/')).toBeUndefined()
})

test('forbidden header names', () => {
  for (const h of ['Host', 'authorization', 'Cookie', 'Connection', 'Transfer-Encoding', 'Content-Length', 'Proxy-Authorization', 'X-Forwarded-For', 'Forwarded', 'TE', 'Upgrade', 'Keep-Alive', 'x-api-key', 'x-goog-api-key', 'api-key', 'Metadata-Flavor'])
    expect(refusedHeader(h), h).toBeDefined()
  expect(refusedHeader('OpenAI-Organization')).toBeUndefined()
})
