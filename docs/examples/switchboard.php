<?php
// Switchboard HTTP API from PHP, with nothing but the curl extension.
//
//   $sb = new Switchboard('http://localhost:3000', getenv('SWITCHBOARD_API_KEY'));
//   $sb->publish('order:shipped', ['id' => 7], ['users' => ['42']]);
//   $sb->sendToUser('42', 'notice', 'hello', '/push');
//   $sb->bindUser($clientId, '42', '/push');

final class Switchboard
{
    public function __construct(private string $baseUrl, private string $apiKey) {}

    /** @param array{rooms?:string[],users?:string[],clients?:string[],groups?:string[],channels?:string[],all?:bool,namespace?:string} $targets */
    public function publish(string $event, mixed $data, array $targets): int
    {
        return $this->call('POST', '/publish', ['event' => $event, 'data' => $data] + $targets)['targets'];
    }

    public function sendToUser(string $userId, string $event, mixed $data, string $namespace = '/'): void
    {
        $this->call('POST', '/users/' . rawurlencode($userId) . '/send', ['event' => $event, 'data' => $data], $namespace);
    }

    public function bindUser(string $clientId, string $userId, string $namespace = '/'): void
    {
        $this->call('PUT', '/clients/' . rawurlencode($clientId) . '/user', ['userId' => $userId], $namespace);
    }

    private function call(string $method, string $path, ?array $body = null, ?string $namespace = null): ?array
    {
        $url = rtrim($this->baseUrl, '/') . '/api/v1' . $path . ($namespace ? '?namespace=' . rawurlencode($namespace) : '');
        $ch = curl_init($url);
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 10,
            CURLOPT_HTTPHEADER => ['Authorization: Bearer ' . $this->apiKey, 'Content-Type: application/json'],
            CURLOPT_POSTFIELDS => $body === null ? null : json_encode($body),
        ]);
        $text = curl_exec($ch);
        $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        if ($text === false) throw new RuntimeException('Switchboard unreachable');
        $json = $text === '' ? null : json_decode($text, true);
        if ($status >= 400) {
            throw new RuntimeException("Switchboard {$status} {$json['error']['code']}: {$json['error']['message']}");
        }
        return $json;
    }
}
