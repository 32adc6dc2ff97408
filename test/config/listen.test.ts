import { expect, test } from 'bun:test'
import { parseListen } from '../../src/config/listen'

test('parseListen: host and port, IPv6 brackets removed, an empty host is every interface', () => {
  expect(parseListen('127.0.0.1:8080')).toEqual({ hostname: '127.0.0.1', port: 8080 })
  expect(parseListen('[::1]:0')).toEqual({ hostname: '::1', port: 0 })
  expect(parseListen(':9464')).toEqual({ hostname: '0.0.0.0', port: 9464 })
  expect(parseListen('0.0.0.0:443')).toEqual({ hostname: '0.0.0.0', port: 443 })
})
