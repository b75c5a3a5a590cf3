# Installs the NemoRDP agent from the first-boot script: writes its config (readable by
# SYSTEM and Administrators only) and registers a scheduled task that runs it as SYSTEM
# every @INTERVAL@ minutes. The agent script and its settings are filled in by the platform.
$dir = Join-Path $env:ProgramData 'NemoRDP'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$acl = New-Object System.Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)
foreach ($who in 'NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators') {
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule(
        $who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
}
Set-Acl -Path $dir -AclObject $acl
[IO.File]::WriteAllBytes((Join-Path $dir 'agent.ps1'), [Convert]::FromBase64String('@SCRIPT@'))
[IO.File]::WriteAllBytes((Join-Path $dir 'agent.json'), [Convert]::FromBase64String('@CONFIG@'))
$action = New-ScheduledTaskAction -Execute 'powershell.exe' `
    -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$dir\agent.ps1`""
$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes(1) `
    -RepetitionInterval (New-TimeSpan -Minutes @INTERVAL@)
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 2) -StartWhenAvailable
Register-ScheduledTask -TaskName 'NemoRDP Agent' -Action $action -Trigger $trigger `
    -Settings $settings -User 'NT AUTHORITY\SYSTEM' -RunLevel Highest -Force | Out-Null
