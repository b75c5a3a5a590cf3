# NemoRDP agent: reports how many Remote Desktop sessions are active on this machine, so
# the platform can stop a desktop nobody uses (when its owner turned auto-shutdown on).
# Run every few minutes by the "NemoRDP Agent" scheduled task, as SYSTEM. Settings come
# from C:\ProgramData\NemoRDP\agent.json (readable by SYSTEM and Administrators only):
#   api_url, instance_id, token
$ErrorActionPreference = 'Stop'
$AgentVersion = '1.0.0'
$ConfigPath = Join-Path $env:ProgramData 'NemoRDP\agent.json'
$config = Get-Content -Raw -Path $ConfigPath | ConvertFrom-Json

# quser lists one line per session; "Active" ones have someone connected. With no session
# at all it writes an error and exits non-zero.
function Get-ActiveSessionCount {
    $lines = & quser.exe 2>$null
    if ($LASTEXITCODE -ne 0 -or -not $lines) { return 0 }
    return @($lines | Select-Object -Skip 1 | Where-Object { $_ -match '\sActive\s' }).Count
}

$body = @{
    instance_id   = [int]$config.instance_id
    sessions      = [int](Get-ActiveSessionCount)
    agent_version = $AgentVersion
} | ConvertTo-Json -Compress

Invoke-RestMethod -Method Post -Uri ($config.api_url.TrimEnd('/') + '/api/agent/heartbeat') `
    -Headers @{ Authorization = "Bearer $($config.token)" } `
    -ContentType 'application/json' -Body $body -TimeoutSec 20 -UseBasicParsing | Out-Null
