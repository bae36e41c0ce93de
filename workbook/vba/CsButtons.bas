Attribute VB_Name = "CsButtons"
' The two buttons on the first sheet (Read me): Refresh report and Check data.
' They run cs_xl's Python through the xlwings add-in. The call is late-bound
' (Application.Run) so this project needs no reference to the add-in, and it
' names no workbook, so the macros work whatever the file is called.
Option Explicit

Public Sub RefreshReport()
    RunCs "from udfs import cs_udfs; cs_udfs.refresh_report()"
End Sub

Public Sub CheckData()
    RunCs "from udfs import cs_udfs; cs_udfs.check_data()"
End Sub

Private Sub RunCs(ByVal command As String)
    On Error GoTo NoAddin
    Application.Run "xlwings.xlam!RunPython", command
    Exit Sub
NoAddin:
    MsgBox "The xlwings add-in did not answer (" & Err.Description & ")." & vbCrLf & _
        "Install it once: pip install cs_xl, then xlwings addin install, and restart Excel.", _
        vbExclamation, "cs_xl"
End Sub
