"""Local emulator of the Google APIs warroom uses (OAuth token, Drive v3, Docs v1, Calendar v3)."""

from emulators.googleemu.emulator import Comment, DriveFile, Fault, GoogleEmulator, new_service_account_key

__all__ = ["Comment", "DriveFile", "Fault", "GoogleEmulator", "new_service_account_key"]
